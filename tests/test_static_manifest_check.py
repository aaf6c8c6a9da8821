"""Issue 22: without `collectstatic` every page was a 500 and no check said so. With
DEBUG off and a manifest storage, `check --deploy` fails until the manifest is there."""

import pytest
from django.core.checks import run_checks
from django.core.files.storage import storages

from tests.support import servers

MAIL_SERVER = {"EMAIL_URL": "smtp+tls://clinic:secret@smtp.clinic.example.in:587"}
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def production_static(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    return tmp_path


def manifest_errors() -> list[str]:
    return [e.id for e in run_checks(include_deployment_checks=True) if e.id == "portal.E002"]


def test_no_manifest_is_an_error(production_static):
    assert manifest_errors() == ["portal.E002"]


def test_a_manifest_that_is_no_manifest_is_an_error(production_static):
    (production_static / "staticfiles.json").write_text("not json")
    assert manifest_errors() == ["portal.E002"]


def test_the_manifest_collectstatic_writes_passes(production_static):
    storage = storages["staticfiles"]
    # Django's own writer, as collectstatic's post-processing calls it.
    storage.hashed_files = {"admin/css/base.css": "admin/css/base.0123456789ab.css"}
    storage.save_manifest()
    assert manifest_errors() == []


def test_debug_and_plain_storage_need_no_manifest(production_static, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert manifest_errors() == []
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    settings.DEBUG = True
    assert manifest_errors() == []


def test_check_deploy_with_production_settings_fails_before_collectstatic(tmp_path):
    result = servers.manage(
        "check",
        "--deploy",
        env=servers.production_env(STATIC_ROOT=str(tmp_path / "static"), **MAIL_SERVER),
    )
    assert result.returncode != 0
    assert "portal.E002" in result.stderr
    assert "collectstatic" in result.stderr


def test_migrate_is_not_stopped_by_it(tmp_path):
    """A deploy runs `migrate` before `collectstatic`: only `check --deploy` says it."""
    result = servers.manage(
        "check", env=servers.production_env(STATIC_ROOT=str(tmp_path / "static"), **MAIL_SERVER)
    )
    assert result.returncode == 0, result.stderr
