"""Settings come from the environment, and production refuses to start without a secret."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="clinic_site.settings")
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_production_without_secret_key_refuses_to_start():
    result = run_check(DEBUG="false")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_with_secret_key_starts():
    result = run_check(DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="clinic.example.in")
    assert result.returncode == 0, result.stderr


def test_plain_pytest_uses_the_checkouts_own_database_name_as_the_script_does():
    # scripts/with-test-postgres.sh names it after the checkout's path; the test settings'
    # default (pytest run without the script) must name the same one, not a shared one.
    script = subprocess.run(
        ["bash", "-c", 'printf "%s" "$(pwd -P)" | sha1sum | cut -c1-10'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "clinic_site.settings_test"
    name = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['NAME'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]  # after any start-up log line
    assert name == f"clinic_{script}"
