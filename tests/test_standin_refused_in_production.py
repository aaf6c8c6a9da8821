"""The Razorpay stand-in is for `make run` and tests only: production settings (DEBUG
off) given make run's stand-in settings stop `manage.py check` (payments.E005), and the
stand-in's own command refuses to start."""

import pytest

from tests.support import servers

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # real manage.py processes

# What scripts/run-dev.sh sets for the stand-in.
MAKE_RUN_STANDIN = {
    "PAYMENT_GATEWAY": "razorpay",
    "RAZORPAY_KEY_ID": "rzp_test_standin",
    "RAZORPAY_KEY_SECRET": "made-up-for-this-run",
    "RAZORPAY_WEBHOOK_SECRET": "made-up-for-this-run-too",
    "RAZORPAY_API_BASE_URL": "http://127.0.0.1:8010",
    "RAZORPAY_CHECKOUT_JS_URL": "http://127.0.0.1:8010/v1/checkout.js",
}


def production(**extra: str) -> dict[str, str]:
    env = servers.production_env(**extra)
    env.pop("RAZORPAY_STANDIN_ALLOWED", None)  # the tests' allowance, not an operator's
    return env


def test_production_settings_with_the_standin_fail_the_system_check():
    refused = servers.manage("check", env=production(**MAKE_RUN_STANDIN))
    assert refused.returncode != 0
    assert "payments.E005" in refused.stderr
    # The same settings with DEBUG on (make run) pass.
    allowed = servers.manage("check", env=production(**MAKE_RUN_STANDIN, DEBUG="true"))
    assert allowed.returncode == 0, allowed.stderr


def test_the_standin_will_not_start_with_debug_off():
    refused = servers.manage(
        "razorpay_standin", "--addr", f"127.0.0.1:{servers.free_port()}", env=production()
    )
    assert refused.returncode != 0
    assert "The Razorpay stand-in runs only with DEBUG on (make run)." in refused.stderr
