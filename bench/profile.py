"""`make profile`: where a booking's CPU time goes, sampled with py-spy under load.

Starts gunicorn with one sync worker on a fresh bench database, keeps it busy with
no-discount bookings from the load process (two clients, so the worker never
waits for work), and samples that worker with py-spy. Prints, and writes to
bench/results/profile-latest.txt:
- the share of CPU samples by the project's own source line that was running
  (the deepest frame in our code: its ORM call, its serializer, ...);
- the share by library (Django ORM, psycopg, DRF, ...), for the leaf frame.
The raw stacks are kept beside it (profile-latest.raw) for a flame graph tool.
py-spy needs ptrace rights over the worker (root, or CAP_SYS_PTRACE).
"""

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_bench import (  # noqa: E402
    RESULTS,
    ROOT,
    bench_database_url,
    fresh_database,
    log,
    start_server,
    wait_until_up,
)

OUR_CODE = re.compile(r"\((?:bookings|pricing|quotas|payments|confirmations|clinic_site)/")
LIBRARIES = (
    ("django/db/models/", "Django ORM"),
    ("django/db/backends/", "Django database backend"),
    ("psycopg/", "psycopg"),
    ("rest_framework/", "Django REST framework"),
    ("gunicorn/", "gunicorn"),
    ("django/", "Django (other)"),
)


def summarize(raw: str, top: int) -> str:
    by_line: collections.Counter[str] = collections.Counter()
    by_library: collections.Counter[str] = collections.Counter()
    total = 0
    for row in raw.splitlines():
        stack, _, count = row.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        ours = [f for f in frames if OUR_CODE.search(f)]
        by_line[ours[-1] if ours else "(outside the project's code)"] += samples
        leaf = frames[-1]
        by_library[
            next((name for marker, name in LIBRARIES if marker in leaf), "other (stdlib, C)")
        ] += samples
    lines = [f"{total} samples of the busy worker", "", "By the project's source line:"]
    lines += [f"{n / total:6.1%}  {where}" for where, n in by_line.most_common(top)]
    lines += ["", "By library (leaf frame):"]
    lines += [f"{n / total:6.1%}  {name}" for name, n in by_library.most_common()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    setup = fresh_database(bench_database_url(), clients=2)
    server, url = start_server(workers=1)
    raw_path = RESULTS / "profile-latest.raw"
    try:
        wait_until_up(url)
        worker = subprocess.run(
            ["pgrep", "-P", str(server.pid)], check=True, capture_output=True, text=True
        ).stdout.split()[0]
        load = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "loadgen.py"),
                "--url",
                url,
                "--path",
                "/api/booking",
                "--tokens",
                setup["tokens_file"],
                "--body",
                setup["no_discount_body"],
                "--expect",
                '"confirmed"',
                "--concurrency",
                "2",
                "--seconds",
                str(args.seconds + 2),
                "--warmup",
                "1",
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)
        log(f"sampling worker {worker} for {args.seconds} s")
        subprocess.run(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                worker,
                "--duration",
                str(args.seconds),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(raw_path),
                "--nonblocking",
            ],  # fmt: skip
            check=True,
            capture_output=True,
        )
        load_summary = load.communicate()[0].strip().splitlines()[-1]
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = f"Load while sampling: {load_summary}\n\n" + summarize(raw_path.read_text(), args.top)
    (RESULTS / "profile-latest.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
