"""Turn a benchmark run into a markdown table and a PNG chart in bench/results/."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

TARGETS = (
    "Targets (issue 16; reported, not asserted): booking throughput ≥ 20% of the baseline's "
    "at 8 and 32 clients; p99 < 150 ms at 8 clients; ≤ 17 SQL statements (without "
    "BEGIN/COMMIT) per plain booking; PostgreSQL CPU per booking at most half of the last "
    "round's 6.9 ms; status reads at 1M bookings and /api/slots at 1,000 practitioner-days "
    "within 1.5× of the small table."
)


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return f"{os.cpu_count()} × {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


def database_ms_per_request(row: dict) -> float | None:
    """PostgreSQL's CPU milliseconds per answered request, from the run's /proc shares."""
    if "cpu" not in row or not row["good_per_second"]:
        return None
    return row["cpu"]["database"] * (os.cpu_count() or 1) * 1000 / row["good_per_second"]


def _database_ms(row: dict) -> str:
    ms = database_ms_per_request(row)
    return "–  | –" if ms is None else f"{ms:.2f} | {1000 / ms:,.0f}"


def _cpu_shares(row: dict) -> str:
    if "cpu" not in row:
        return "–"
    return " · ".join(f"{row['cpu'][part]:.0%}" for part in ("app", "database", "load"))


def write(report: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%SZ")
    work = report.get("workloads")
    lines = [
        f"# Benchmark {stamp}",
        "",
        f"Machine: {_cpu()}. Server: gunicorn with gunicorn.conf.py (sync workers: "
        f"{report.get('workers', '?')}) on PostgreSQL, load from a separate "
        f"process on loopback. {report['setup']}.",
        "",
        TARGETS,
        "",
    ]
    if work:
        lines += _bookings_sections(report)
    if report.get("online"):
        lines += _online_section(report["online"])
    if report.get("slots"):
        lines += _slot_section(report["slots"])
    text = "\n".join(lines) + "\n"
    (folder / f"{stamp}.md").write_text(text)
    # A partial run (--only) keeps the full run's latest.md.
    partial = "slots-latest.md" if report.get("slots") else "online-latest.md"
    (folder / ("latest.md" if work else partial)).write_text(text)
    (folder / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    if work:
        _chart(report, folder / f"{stamp}.png")
    print(text)
    return folder / f"{stamp}.md"


# The baseline at 8 clients in the last run on this machine with nothing else running
# (bench/results/latest.md, November 2026): the yardstick a shared run's share is read by.
IDLE_BASELINE = 656.8


def _rate(row: dict) -> str:
    return f"{row['good_per_second']:.1f}"


def _mean_rate(rows: list[dict]) -> float:
    return sum(r["good_per_second"] for r in rows) / len(rows)


def _online_section(online: dict) -> list[str]:
    """Issue 23's online path, and the card path before and after it in this run."""
    clients = online["clients"]
    lines = [
        "",
        "## The online path (Razorpay, at the stand-in)",
        "",
        f"A second gunicorn whose gateway is Razorpay, reached over HTTP at the stand-in "
        f"(served on loopback by the bench process: its CPU is this machine's too). "
        f"{clients} clients each. Orders: online walk-in bookings (the order made at the "
        "gateway, the booking awaiting payment). Proofs: half the paid orders' checkout "
        "proofs (signature, the payment fetched from the gateway, the capture recorded, "
        "the booking confirmed). Webhooks: every webhook of every paid order "
        "(payment.authorized, payment.captured, order.paid), each sent twice, shuffled: "
        "ignored, stored once by event id and acted on, or answered as a duplicate.",
        "",
        "CPU ms per request: the app server's, and PostgreSQL's (every database's backends "
        "on this server: an upper bound when the machine is shared); the ceiling is what "
        f"{os.cpu_count()} cores given to the two alone would answer: "
        "cores × 1000 ÷ (app + PostgreSQL ms).",
        "",
        "| part | requests | good/s | p50 ms | p99 ms | errors | answers | "
        "CPU app · PostgreSQL · load | CPU ms app + PostgreSQL | ceiling/s |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for part in ("orders", "proofs", "webhooks"):
        row = online[part]
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(row.get("answers", {}).items()))
        if "app_cpu_ms" in row:
            cost = row["app_cpu_ms"] + row["database_cpu_ms"]
            per_request = (
                f"{row['app_cpu_ms']:.2f} + {row['database_cpu_ms']:.2f} | "
                f"{(os.cpu_count() or 1) * 1000 / cost:,.0f}"
            )
        else:
            per_request = "– | –"
        lines.append(
            f"| {part} | {row['requests']} | {row['good_per_second']:.1f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | {answers or '–'} "
            f"| {_cpu_shares(row)} | {per_request} |"
        )
    before, after = _mean_rate(online["card_before"]), _mean_rate(online["card_after"])
    rates = {
        when: ", ".join(f"{r['good_per_second']:.1f}" for r in online[f"card_{when}"])
        for when in ("before", "after")
    }
    cpu_ms = {
        when: ", ".join(f"{r.get('app_cpu_ms', float('nan')):.1f}" for r in online[f"card_{when}"])
        for when in ("before", "after")
    }
    statements = online["card_statements"]
    around = online["baseline_around_webhooks"]
    yardstick = _mean_rate(around)
    webhooks = online["webhooks"]["good_per_second"]
    lines += [
        "",
        f"The baseline (an authenticated DRF POST inserting one row) on the same server just "
        f"before and after the webhooks: "
        f"{', '.join(_rate(r) for r in around)}/s; the webhooks "
        f"ran at {webhooks / yardstick:.0%} of it. At the {IDLE_BASELINE:.0f}/s the baseline "
        f"does at 8 clients on this machine when nothing else runs (docs/performance.md), "
        f"that share is {webhooks / yardstick * IDLE_BASELINE:.0f} webhooks/s.",
        "",
        f"Outcome: {json.dumps(online['outcome'])}",
        "",
        f"The card path (no-discount walk-in, {clients} clients) on the card server, "
        f"before and after the online path in this run: "
        f"{rates['before']} → {rates['after']} "
        f"bookings/s (means {before:.1f} → {after:.1f}: {after / before - 1:+.1%}); "
        f"the app server's CPU per booking {cpu_ms['before']} → {cpu_ms['after']} ms; "
        f"load average {online['load_before'][0]:.1f} → {online['load_after'][0]:.1f}. "
        f"Its statements: {statements['without_transaction_control']} without "
        f"BEGIN/COMMIT ({statements['all']} in all).",
    ]
    return lines


def _slot_section(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "## /api/slots for one day as the slot table grows",
        "",
        "The same day's answer each time (its practitioners' slots); the table around it "
        "holds more practitioner-days. 4 clients.",
        "",
        "| practitioner-days | slots in table | slots answered | p50 ms | p99 ms | "
        "ratio p50 to the first | indexes used |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    first = rows[0]["read"]["p50_ms"] or float("nan")
    for row in rows:
        read = row["read"]
        lines.append(
            f"| {row['practitioner_days']:,} | {row['slots_in_table']:,} | "
            f"{row['answer_slots']} | {read['p50_ms']:.1f} | {read['p99_ms']:.1f} | "
            f"{read['p50_ms'] / first:.2f}× | {', '.join(row['indexes'])} |"
        )
    return lines


def _bookings_sections(report: dict) -> list[str]:
    levels = report["levels"]
    work = report.get("workloads")
    lines = [
        "## Throughput and latency",
        "",
        "CPU: share of the machine's cores used by the app server, PostgreSQL and the load "
        "process during the run.",
        "",
        "PostgreSQL ms: its CPU time per answered request; bookings/s per core: 1000 ÷ that, "
        "how many bookings one PostgreSQL core could take if the app tier scaled out.",
        "",
        "| workload | clients | good/s | ratio to baseline | p50 ms | p95 ms | p99 ms | errors "
        "| CPU app · PostgreSQL · load | PostgreSQL ms | per PG core/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in work.items():
        for level, row in zip(levels, rows, strict=True):
            base = work["baseline"][levels.index(level)]["good_per_second"] or float("nan")
            lines.append(
                f"| {name} | {level} | {row['good_per_second']:.1f} | "
                f"{row['good_per_second'] / base:.0%} | {row['p50_ms']:.1f} | "
                f"{row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | "
                f"{_cpu_shares(row)} | {_database_ms(row)} |"
            )
    lines += [
        "",
        "## The hot row",
        "",
        "pgbench running the quota's conditional UPDATE alone (transactions/s):",
        "",
        "| clients | " + " | ".join(str(c) for c in levels) + " |",
        "|---|" + "---:|" * len(levels),
        "| tps | " + " | ".join(f"{report['pgbench'][c]:.0f}" for c in levels) + " |",
        "",
        f"Race outcome: {json.dumps(report['race'])}",
        "",
        "## SQL statements per successful booking (through the API)",
        "",
        "| booking | all statements | without BEGIN/COMMIT/SAVEPOINT |",
        "|---|---:|---:|",
    ]
    for label, counts in report["queries"].items():
        lines.append(f"| {label} | {counts['all']} | {counts['without_transaction_control']} |")
    if report.get("scale"):
        lines += [
            "",
            "## Reads as the table grows",
            "",
            "| bookings | read | p50 ms | p99 ms | indexes used |",
            "|---:|---|---:|---:|---|",
        ]
        for entry in report["scale"]:
            for label, row in entry["reads"].items():
                indexes = ", ".join(entry["indexes"].get(label, []))
                lines.append(
                    f"| {entry['bookings']:,} | {label} | {row['p50_ms']:.1f} | "
                    f"{row['p99_ms']:.1f} | {indexes} |"
                )
    return lines


def _chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = report["levels"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, rows in report["workloads"].items():
        left.plot(levels, [r["good_per_second"] for r in rows], marker="o", label=name)
        right.plot(levels, [r["p99_ms"] for r in rows], marker="o", label=name)
    left.set(title="Throughput", xlabel="concurrent clients", ylabel="good answers / s")
    right.set(title="p99 latency", xlabel="concurrent clients", ylabel="ms")
    right.axhline(150, color="grey", linestyle="--", linewidth=1, label="150 ms target")
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xticks(levels, [str(x) for x in levels])
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    latest = path.parent / "latest.png"
    latest.write_bytes(path.read_bytes())
