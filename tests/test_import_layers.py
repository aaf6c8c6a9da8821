"""The layers of shared/DESIGN.md hold, and the import contracts would catch a breach."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "clinic_site",
    "portal",
    "pricing",
    "quotas",
    "payments",
    "confirmations",
    "scheduling",
    "notifications",
    "bookings",
)
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_project_keeps_its_import_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken_contract"),
    [
        # The kernel reaching up to a participant.
        ("bookings/models.py", "import payments.models", "Imports point down"),
        # One participant reaching into another.
        ("quotas/services.py", "from pricing.models import DiscountSettings", "never import"),
        # A participant reaching up to the edge.
        ("payments/services.py", "from portal.ops import recovery", "Imports point down"),
        # One of the portal's rooms reaching into another (the shared parts are flows
        # and selectors).
        ("portal/web/bookings.py", "from portal.api import serializers", "rooms never import"),
        ("portal/staff/front_desk.py", "import portal.web.booking", "rooms never import"),
    ],
)
def test_a_wrong_import_breaks_the_build(tmp_path, module, wrong_import, broken_contract):
    project = copy_of_the_project(tmp_path)
    target = project / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # deliberate breach\n")

    result = lint_imports(project)

    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(broken_contract in line for line in broken), result.stdout
