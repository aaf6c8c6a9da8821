import os
import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import hypothesis
import pytest
from django.conf import settings

from bookings.models import Booking
from portal.flows import start_booking
from quotas.models import QuotaSettings
from tests.support.factories import ADULT_BIRTHDAY, MedicalServiceFactory, UserFactory
from tests.support.scheduling import appointment_service, practitioner

# The schema fuzz (tests/test_api_schema.py): "repeatable" in `make test`, the same
# requests on every run and machine; "explore" in `make fuzz` (FUZZ_PROFILE=explore),
# new random ones each run, a failure kept in .hypothesis/ and replayed first next time.
_FUZZ_COMMON = dict(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
hypothesis.settings.register_profile(
    "repeatable", derandomize=True, database=None, print_blob=True, **_FUZZ_COMMON
)
hypothesis.settings.register_profile("explore", derandomize=False, **_FUZZ_COMMON)
hypothesis.settings.load_profile(os.environ.get("FUZZ_PROFILE", "repeatable"))


def pytest_sessionstart(session: pytest.Session) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"The tests run on PostgreSQL only, not {engine}: set DATABASE_URL.", 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Whatever starts Chromium is slow, marked or not: `-m "not slow"` never starts a browser.
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def commits(db):
    """A plain `django_db` test whose code's transactions "commit": on-commit callbacks
    run when the code's outermost atomic block exits (tests/support/commits.py), so the
    saga's steps follow each other without `transaction=True`'s flush per test."""
    from tests.support.commits import run_commit_hooks

    with run_commit_hooks():
        yield


@pytest.fixture
def morning():
    """The clock at 08:00 IST on a fixed Thursday (tests/support/clock.MORNING), ticking:
    refunds and moves depend on how long before the visit they are asked for."""
    import time_machine

    from tests.support.clock import MORNING

    with time_machine.travel(MORNING, tick=True):
        yield MORNING


@pytest.fixture
def consult(db):
    """A consultation that needs a slot (modules may define their own)."""
    return appointment_service("900.00", name="Test Consultation")


@pytest.fixture
def doctor(consult):
    """A practitioner who provides `consult`."""
    return practitioner(consult, name="Dr. Test Rao")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def service_priced(db) -> Callable[[str], object]:
    def make(price: str, **kwargs):
        return MedicalServiceFactory(price=Decimal(price), **kwargs)

    return make


@pytest.fixture
def set_default_limit(db) -> Callable[[int], None]:
    def set_limit(limit: int) -> None:
        QuotaSettings.objects.update_or_create(pk=1, defaults={"default_daily_limit": limit})

    return set_limit


@pytest.fixture
def default_cancellation_policy(db):
    """The policy the migration seeds (transactional tests flush seeded rows)."""
    from importlib import import_module

    from pricing.models import CancellationPolicy, CancellationTier

    seed = import_module("pricing.migrations.0005_default_cancellation_policy")
    if not CancellationPolicy.objects.exists():
        policy = CancellationPolicy.objects.create(
            reschedule_until_hours_before=4, max_reschedules=2
        )
        CancellationTier.objects.bulk_create(
            CancellationTier(policy=policy, min_hours_before=h, refund_percent=p, fee=f)
            for h, p, f in seed.TIERS
        )
    return CancellationPolicy.objects.order_by("-pk").first()


@pytest.fixture
def book(user, service_priced) -> Callable[..., Booking]:
    """Run a whole booking saga and return the booking as it ended."""

    def run(
        *,
        prices: tuple[str, ...] = ("500.00",),
        gender: str = "male",
        date_of_birth: date = ADULT_BIRTHDAY,
        payment_token: str = "tok_visa",
        services=None,
        by=None,
        slot=None,
    ) -> Booking:
        chosen = services or [service_priced(p) for p in prices]
        booking = start_booking(
            user=by or user,
            patient_name="Asha Verma",
            gender=gender,
            date_of_birth=date_of_birth,
            service_ids=[s.pk for s in chosen],
            payment_token=payment_token,
            slot_id=None if slot is None else slot.pk,
        )
        booking.refresh_from_db()
        return booking

    return run


# --- Browser tests: Playwright driving Debian's Chromium against live_server ----

# The one `make test` found or installed (scripts/ensure-browser.sh), else Debian's.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = settings.BASE_DIR / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian's package (Playwright's own download is not used)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context per test; `shot(name)` saves a screenshot of the page."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Every page a browser test visits must work under the Content-Security-Policy:
    # Chromium reports each thing the policy blocked on the console.
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not refused, refused


@pytest.fixture
def shot(request):
    """shot(page, "name") saves test-artifacts/screenshots/<test>-<name>.png (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}-{name}.png", full_page=True)

    return take


# --- API tests: a client whose every answer is checked against the OpenAPI schema ---


@pytest.fixture(scope="session")
def openapi_schema():
    from tests.support.api_support import load_openapi_schema

    return load_openapi_schema()


@pytest.fixture(autouse=True)
def _clinic_open_all_day(request):
    """The clinic's doors open all day, every day, for the tests written before opening
    hours existed (they book walk-ins at whatever hour the suite runs, and a transactional
    test's flush removes the seeded hours). A test marked `clinic_hours` sets its own."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if request.node.get_closest_marker("clinic_hours") or not uses_db:
        return
    from datetime import time

    from scheduling.models import OpeningHours

    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            weekday=weekday, defaults={"closed": False, "opens": time.min, "closes": time.max}
        )


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker and marker.kwargs.get("transaction"))
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _the_default_language():
    """Each test starts in the site's default language: a request a test made in Hindi
    leaves Hindi active in the thread (LocaleMiddleware activates, nothing resets it),
    and a later test that renders words outside a request would read Hindi."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api(db, openapi_schema):
    """An anonymous API client."""
    from tests.support.api_support import ConformingAPIClient

    return ConformingAPIClient(openapi_schema)


@pytest.fixture
def token_client(db, openapi_schema):
    """token_client(user) -> an API client sending that user's `Authorization: Token`."""
    from rest_framework.authtoken.models import Token

    from tests.support.api_support import ConformingAPIClient

    def make(for_user):
        token, _ = Token.objects.get_or_create(user=for_user)
        return ConformingAPIClient(openapi_schema, HTTP_AUTHORIZATION=f"Token {token.key}")

    return make


@pytest.fixture
def patient_api(token_client, user):
    """The `user` fixture's API client, authenticated by token."""
    return token_client(user)
