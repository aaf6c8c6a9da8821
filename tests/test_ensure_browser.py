"""Issue 12, item 14: `make test` gets the browser its tests drive by itself
(scripts/ensure-browser.sh), or says in one line what to install."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "ensure-browser.sh"


def run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_a_chromium_on_the_path_is_used(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    result = run({"PATH": str(tmp_path), "BROWSER_CANDIDATES": "", "BROWSER_INSTALL": "no"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(fake)


def test_chromium_named_by_the_environment_wins(tmp_path):
    fake = tmp_path / "my-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    result = run({"PATH": "/usr/bin:/bin", "CHROMIUM": str(fake)})
    assert result.stdout.strip() == str(fake)


def test_without_a_browser_or_a_way_to_install_it_one_line_says_what_to_do(tmp_path):
    result = run({"PATH": str(tmp_path), "BROWSER_CANDIDATES": "", "BROWSER_INSTALL": "no"})
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "apt-get install chromium" in lines[0]


def test_make_test_and_ci_use_the_script():
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/ensure-browser.sh" in test_recipe
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "apt-get" not in ci  # one place installs the browser: the script
