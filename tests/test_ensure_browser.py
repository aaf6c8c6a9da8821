"""Issue 12, item 14: `make test` gets the browser its tests drive by itself
(scripts/ensure-browser.sh), or says in one line what to install."""

import shutil
import subprocess
import time
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


# --- Playwright's Chromium: one downloaded before, or `playwright install chromium` ---


def executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_a_chromium_in_playwrights_cache_is_used_the_newest_first(tmp_path):
    cache = tmp_path / "home" / ".cache" / "ms-playwright"
    executable(cache / "chromium-1100" / "chrome-linux" / "chrome")
    newest = executable(cache / "chromium-1200" / "chrome-linux64" / "chrome")
    result = run(
        {
            "PATH": str(tmp_path / "bin"),
            "HOME": str(tmp_path / "home"),
            "BROWSER_CANDIDATES": "",
            "BROWSER_INSTALL": "no",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(newest)


def fake_machine(tmp_path: Path, install: str) -> dict[str, str]:
    """A machine without Chromium: a virtualenv whose playwright `install`s as told
    (`download`, `offline` or `hang`) and reports where its Chromium is, and an apt-get
    (and sudo) that install Debian's chromium at a candidate path. Each logs its calls."""
    bin_dir = tmp_path / "bin"
    for tool in ("timeout", "id", "env", "sleep"):
        (bin_dir / tool).parent.mkdir(parents=True, exist_ok=True)
        (bin_dir / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "calls.log"
    reported = tmp_path / "playwright-browsers" / "chromium-9999" / "chrome-linux" / "chrome"
    installs = {
        "download": f"/bin/mkdir -p {reported.parent}; printf '#!/bin/sh\\n' > {reported}; "
        f"/bin/chmod 755 {reported}; exit 0",
        "offline": "echo 'Error: getaddrinfo EAI_AGAIN cdn.playwright.dev' >&2; exit 1",
        "hang": "exec /bin/sleep 30",
    }
    executable(
        tmp_path / "venv" / "bin" / "python",
        "#!/bin/sh\n"
        f'echo "python $*" >> {log}\n'
        'case "$*" in\n'
        '  "-c import playwright") exit 0 ;;\n'
        f'  "-m playwright install chromium") {installs[install]} ;;\n'
        f"  *executable_path*) echo {reported}; exit 0 ;;\n"
        "esac\n"
        "exit 3\n",
    )
    debian = tmp_path / "debian" / "chromium"
    executable(
        bin_dir / "apt-get",
        f'#!/bin/sh\necho "apt-get $*" >> {log}\n'
        f'case "$*" in *install*) /bin/mkdir -p {debian.parent}; '
        f"printf '#!/bin/sh\\n' > {debian}; /bin/chmod 755 {debian} ;; esac\n",
    )
    executable(bin_dir / "sudo", '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n')
    return {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path / "home"),
        "VENV": str(tmp_path / "venv"),
        "BROWSER_CANDIDATES": str(debian),
    }


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_playwright_installs_chromium_before_the_system_package_manager(tmp_path):
    result = run(fake_machine(tmp_path, "download"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        tmp_path / "playwright-browsers" / "chromium-9999" / "chrome-linux" / "chrome"
    )  # the path playwright reported
    assert "python -m playwright install chromium" in calls(tmp_path)
    assert not [c for c in calls(tmp_path) if c.startswith("apt-get")]


def test_offline_playwright_falls_through_to_apt(tmp_path):
    result = run(fake_machine(tmp_path, "offline"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "debian" / "chromium")
    assert "apt-get install -y -q chromium" in calls(tmp_path)
    assert "offline?" in result.stderr


def test_a_hanging_playwright_download_is_cut_short(tmp_path):
    env = {**fake_machine(tmp_path, "hang"), "PLAYWRIGHT_INSTALL_TIMEOUT": "1"}
    started = time.monotonic()
    result = run(env)
    assert time.monotonic() - started < 15
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "debian" / "chromium")


def test_browser_install_no_neither_downloads_nor_installs(tmp_path):
    result = run({**fake_machine(tmp_path, "download"), "BROWSER_INSTALL": "no"})
    assert result.returncode == 1
    assert "python -m playwright install chromium" not in calls(tmp_path)
    assert not [c for c in calls(tmp_path) if c.startswith("apt-get")]
    assert len(result.stderr.strip().splitlines()) == 1
