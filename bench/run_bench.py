"""`make bench`: the booking system measured the way its users feel it.

Starts the production server (gunicorn) on a fresh PostgreSQL database, drives it
from a separate load-generating process at several concurrency levels, and
reports every figure beside a baseline measured in the same run:
- baseline: an authenticated DRF POST that inserts one row (bench/views.py);
- no-discount bookings, and all-eligible bookings racing for a small daily limit;
- the hot-row ceiling: pgbench running the quota's conditional UPDATE;
- SQL statements per booking; status and list read latency at 10k and 1M bookings;
- /api/slots for one day at 10 and 1,000 practitioner-days of slots (`--only slots`
  runs just that);
- the online path (issue 23; `--only online` runs just that): orders, the checkout's
  proofs and the gateway's webhooks (each sent twice, shuffled) through a gunicorn whose
  gateway is Razorpay, at the stand-in; the card path measured before and after it.
Writes bench/results/<stamp>.md (and latest.md) and a PNG chart beside it.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cpu  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCH_DB = os.environ.get("BENCH_DB", "clinic_bench")  # parallel runs: name your own
HOT_ROW_SQL = (
    "UPDATE quotas_discountquota SET used = used + 1 WHERE day = DATE '2099-12-31' "
    'AND used < "limit";\n'
)


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S} UTC] {message}", flush=True)


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set (run through scripts/with-test-postgres.sh)")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def recreate_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not come up")


def run_load(url, path, tokens_file, body, expect, concurrency, seconds, warmup, method="POST",
             server_pid=None):  # fmt: skip
    command = [
        sys.executable, str(ROOT / "bench" / "loadgen.py"),
        "--url", url, "--path", path, "--tokens", tokens_file, "--body", body,
        "--expect", expect, "--concurrency", str(concurrency),
        "--seconds", str(seconds), "--warmup", str(warmup), "--method", method,
    ]  # fmt: skip
    return _measured(command, server_pid, sent="sent_in_all")


def _measured(command: list[str], server_pid, *, sent: str) -> dict:
    """Run the load process; its summary with the CPU the server and PostgreSQL used.
    CPU time per request (over `sent`, the requests the interval served) is less swayed
    than a rate by what else the machine runs; PostgreSQL's counts every database's
    backends on the server: an upper bound when the machine is shared."""
    before = cpu.sample(server_pid) if server_pid else None
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    if before:
        after = cpu.sample(server_pid)
        row["cpu"] = cpu.shares(before, after, row["cpu_seconds"])
        served = max(row[sent], 1)
        row["app_cpu_ms"] = (after.app - before.app) * 1000 / served
        row["database_cpu_ms"] = (after.database - before.database) * 1000 / served
    return row


def pgbench_tps(db_url: str, clients: int, seconds: int) -> float:
    parts = urlsplit(db_url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(HOT_ROW_SQL)
    command = [
        "pgbench", "-n", "-f", script.name, "-c", str(clients), "-j", str(min(clients, 2)),
        "-T", str(seconds), "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", parts.username or "postgres", BENCH_DB,
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def fresh_database(db_url: str, *, clients: int) -> dict:
    """A new bench database, migrated, with `clients` API users; Django set up on it."""
    log(f"fresh database {BENCH_DB}")
    recreate_database(db_url)
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic_site.settings_bench"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import time

    from scheduling.models import OpeningHours

    # The bench books walk-ins whatever the hour it runs at: the clinic is open all day
    # on the bench database (the seeded 08:00–17:00 would make a night run all 400s).
    OpeningHours.objects.update(closed=False, opens=time.min, closes=time.max)
    from bench import measure

    return measure.prepare(clients)


def run_requests(url, requests, expect, concurrency, server_pid=None):  # fmt: skip
    """Requests that differ one from the next (proofs, webhooks), each sent once."""
    from bench import online

    command = [
        sys.executable, str(ROOT / "bench" / "loadgen.py"), "--url", url,
        "--requests", online.requests_file(requests), "--expect", expect,
        "--concurrency", str(concurrency),
    ]  # fmt: skip
    return _measured(command, server_pid, sent="requests")


def start_server(
    *, workers: int, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """gunicorn with the production configuration (sync workers), as deployed."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "clinic_site.wsgi",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            *(["--workers", str(workers)] if workers else []),
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return server, f"http://127.0.0.1:{port}"


def _configured_workers() -> int:
    config: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), config)
    return config["workers"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="1,8,32,64")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--limit", type=int, default=20, help="daily discounts in the race")
    parser.add_argument("--scale", default="10000,1000000", help="table sizes for reads; '' skips")
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers; 0 keeps gunicorn.conf.py's"
    )
    parser.add_argument(
        "--slot-scale", default="10,1000", help="practitioner-days of slots for /api/slots"
    )
    parser.add_argument("--only", choices=["slots", "online"], help="measure only this part")
    parser.add_argument(
        "--online-clients", type=int, default=8, help="clients of the online path's parts"
    )
    parser.add_argument(
        "--card-repeats", type=int, default=2, help="card runs before and after the online path"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    db_url = bench_database_url()
    setup = fresh_database(db_url, clients=max(levels))
    server, url = start_server(workers=args.workers)
    report: dict = {"levels": levels, "workloads": {}, "setup": setup["describe"]}
    report["workers"] = args.workers or _configured_workers()
    try:
        wait_until_up(url)
        log(f"gunicorn up on {url} (gunicorn.conf.py, workers: {args.workers or 'its default'})")
        if args.only is None:
            _bookings(args, levels, url, db_url, setup, server, report)
        if args.only in (None, "online"):
            report["online"] = _online_path(args, url, setup, server)
        if args.only is None:
            _reads(args, setup, url, report)
        if args.only in (None, "slots"):
            report["slots"] = _slot_reads(args, url, setup)
    finally:
        server.terminate()
        server.wait(timeout=30)
    from bench import report as write_report

    path = write_report.write(report, RESULTS)
    log(f"written {path}")


def _slot_reads(args, url: str, setup: dict) -> list[dict]:
    """GET /api/slots for one day as the slot table grows: the answer is the same
    320 slots each time; only the other days' slots around it grow."""
    from bench import measure

    rows = []
    for practitioner_days in [int(x) for x in args.slot_scale.split(",") if x]:
        total = measure.bulk_load_slots(practitioner_days)
        answered = measure.slots_answer_size()
        path = measure.slot_path()
        read = run_load(url, path, setup["reader_tokens_file"], "", "", 4,
                        args.seconds / 2, 1, method="GET")  # fmt: skip
        indexes = measure.indexes_used(setup, {"slots": path})["slots"]
        rows.append({"practitioner_days": practitioner_days, "slots_in_table": total,
                     "answer_slots": answered, "read": read, "indexes": indexes})  # fmt: skip
        log(f"/api/slots at {practitioner_days} practitioner-days ({total} slots): "
            f"p50={read['p50_ms']:.1f}ms p99={read['p99_ms']:.1f}ms")  # fmt: skip
    return rows


def _online_path(args, card_url: str, setup: dict, card_server) -> dict:
    """Orders, proofs and webhooks through a second gunicorn whose gateway is Razorpay
    (the stand-in, served by this process on loopback); the card path on the first
    server at `online_clients` clients, before and after, in this run."""
    from bench import measure, online
    from payments.razorpay_standin import StandIn, serving

    clients = args.online_clients

    def card() -> dict:
        row = run_load(card_url, "/api/booking", setup["tokens_file"],
                       setup["no_discount_body"], '"confirmed"', clients, args.seconds,
                       args.warmup, server_pid=card_server.pid)  # fmt: skip
        log(f"card path c={clients}: {row['good_per_second']:.1f}/s p99={row['p99_ms']:.0f}ms "
            f"load={os.getloadavg()[0]:.1f}")  # fmt: skip
        return row

    result: dict = {"card_statements": measure.queries_per_booking(setup)["no_discount"]}
    result["clients"] = clients
    result["card_before"] = [card() for _ in range(args.card_repeats)]
    result["load_before"] = os.getloadavg()
    standin = StandIn()  # keeps its webhooks: the load process sends them
    with serving(standin) as standin_url:
        server, url = start_server(
            workers=args.workers, env=online.server_env(standin, standin_url)
        )
        try:
            wait_until_up(url)
            result["orders"] = run_load(url, "/api/booking", setup["tokens_file"],
                                        online.online_body(setup), '"awaiting_payment"',
                                        clients, args.seconds, args.warmup,
                                        server_pid=server.pid)  # fmt: skip
            log(f"online orders c={clients}: {result['orders']['good_per_second']:.1f}/s "
                f"p99={result['orders']['p99_ms']:.0f}ms")  # fmt: skip
            proofs = online.pay_every_waiting_order(standin)
            # Half the patients come back with the proof; the others' tabs closed: only
            # the webhooks tell of their payment.
            result["proofs"] = run_requests(url, proofs[: len(proofs) // 2], '"confirmed"',
                                            clients, server.pid)  # fmt: skip
            log(f"proofs c={clients}: {result['proofs']['good_per_second']:.1f}/s "
                f"p99={result['proofs']['p99_ms']:.0f}ms")  # fmt: skip
            webhooks = online.held_webhooks(standin, repeat=2, seed=23)

            def baseline() -> dict:  # the same run's yardstick, beside the webhooks
                return run_load(url, "/bench/baseline", setup["tokens_file"], '{"n": 1}',
                                '"id"', clients, args.seconds / 2, 1,
                                server_pid=server.pid)  # fmt: skip

            result["baseline_around_webhooks"] = [baseline()]
            result["webhooks"] = run_requests(url, webhooks, '"status"', clients, server.pid)
            result["baseline_around_webhooks"].append(baseline())
            log(
                f"webhooks c={clients}: {result['webhooks']['good_per_second']:.1f}/s "
                f"p99={result['webhooks']['p99_ms']:.0f}ms {result['webhooks']['answers']}"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    result["outcome"] = online.outcome()
    log(f"online outcome: {result['outcome']}")
    result["card_after"] = [card() for _ in range(args.card_repeats)]
    result["load_after"] = os.getloadavg()
    return result


def _bookings(args, levels, url, db_url, setup, server, report) -> None:
    """Bookings at each concurrency, the race, the hot row."""
    from bench import measure

    report["queries"] = measure.queries_per_booking(setup)
    workloads = {
        "baseline": ("/bench/baseline", json.dumps({"n": 1}), '"id"'),
        "no_discount": ("/api/booking", setup["no_discount_body"], '"confirmed"'),
        "eligible_race": ("/api/booking", setup["eligible_body"], '"confirmed"'),
    }
    for name, (path, body, expect) in workloads.items():
        if name == "eligible_race":
            measure.reset_today_quota(args.limit)
            race_started = datetime.now(UTC)
        rows = []
        for level in levels:
            row = run_load(url, path, setup["tokens_file"], body, expect, level,
                           args.seconds, args.warmup, server_pid=server.pid)  # fmt: skip
            log(f"{name} c={level}: {row['good_per_second']:.1f}/s "
                f"p99={row['p99_ms']:.0f}ms errors={row['errors']}")  # fmt: skip
            rows.append(row)
        report["workloads"][name] = rows
    report["race"] = measure.race_outcome(args.limit, race_started)
    report["pgbench"] = {level: pgbench_tps(db_url, level, 5) for level in levels}
    log(f"pgbench hot row: {report['pgbench']}")


def _reads(args, setup, url, report) -> None:
    """Status and list reads at each table size."""
    from bench import measure

    report["scale"] = []
    for size in [int(x) for x in args.scale.split(",") if x]:
        measure.bulk_load_to(size)
        reads = {}
        for label, path in measure.read_paths(setup).items():
            reads[label] = run_load(url, path, setup["reader_tokens_file"], "", "", 4,
                                    args.seconds / 2, 1, method="GET")  # fmt: skip
        report["scale"].append(
            {"bookings": size, "reads": reads, "indexes": measure.indexes_used(setup)}
        )
        log(f"reads at {size}: " + ", ".join(
            f"{k} p50={v['p50_ms']:.1f}ms" for k, v in reads.items()))  # fmt: skip


if __name__ == "__main__":
    main()
