"""The load-generating process: N client threads, each on its own keep-alive connection.

Runs apart from the server (its own process), prints one JSON summary line.
Usage: python bench/loadgen.py --url http://127.0.0.1:PORT --path /api/booking
       --tokens tokens.txt --body '{...}' --concurrency 8 --seconds 10 --warmup 2
or, for requests that differ one from the next (proofs, webhooks), each sent once:
       python bench/loadgen.py --url … --requests requests.jsonl --concurrency 8
where each line is {"path": …, "body": "…", "headers": {…}}; the clients take the next
line until none is left, and the rate is over the time from the first to the last answer.
"""

import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlsplit


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", default="")
    parser.add_argument("--tokens", default="", help="file with one API token a line")
    parser.add_argument("--body", default="")
    parser.add_argument("--requests", default="", help="JSON lines: path, body, headers")
    parser.add_argument("--expect", default="", help="a substring of a good answer's body")
    parser.add_argument("--method", default="POST", choices=["POST", "GET"])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    args = parser.parse_args()
    if args.requests:
        print(json.dumps(send_each_once(args)))
        return

    target = urlsplit(args.url)
    tokens = [t.strip() for t in open(args.tokens) if t.strip()]
    body = args.body.encode() if args.method == "POST" else None
    start_at = time.monotonic() + 0.5
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.seconds
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    good = 0
    sent_in_all = 0  # warm-up included: what the server's CPU time over the run served

    def client(n: int) -> None:
        nonlocal good, sent_in_all
        token = tokens[n % len(tokens)]
        headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while time.monotonic() < start_at:
            time.sleep(0.001)
        while True:
            sent = time.monotonic()
            if sent >= stop_at:
                break
            try:
                conn.request(args.method, args.path, body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                code = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                answer, code = b"", type(exc).__name__
            took = time.monotonic() - sent
            with lock:
                sent_in_all += 1
            if sent < measure_from:
                continue  # warm-up
            with lock:
                latencies.append(took)
                statuses[code] = statuses.get(code, 0) + 1
                if code.startswith("2") and args.expect.encode() in answer:
                    good += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    latencies.sort()
    errors = sum(v for k, v in statuses.items() if not k.startswith("2"))
    print(
        json.dumps(
            {
                "concurrency": args.concurrency,
                "requests": len(latencies),
                "sent_in_all": sent_in_all,
                "good": good,
                "good_per_second": good / args.seconds,
                "errors": errors,
                "statuses": statuses,
                "p50_ms": percentile(latencies, 50) * 1000,
                "p95_ms": percentile(latencies, 95) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
                "mean_ms": (statistics.fmean(latencies) * 1000) if latencies else float("nan"),
                "cpu_seconds": time.process_time(),  # the load process's own cost
            }
        )
    )


def send_each_once(args) -> dict:
    """Every request of the file sent once, by `concurrency` keep-alive clients."""
    target = urlsplit(args.url)
    with open(args.requests) as lines:
        queue = [json.loads(line) for line in lines if line.strip()]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    answers: dict[str, int] = {}  # the JSON "status" of 2xx answers (webhooks: accepted…)
    good = 0
    taken = 0

    def client() -> None:
        nonlocal good, taken
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while True:
            with lock:
                if taken == len(queue):
                    break
                request = queue[taken]
                taken += 1
            headers = {"Content-Type": "application/json", **request.get("headers", {})}
            sent = time.monotonic()
            try:
                conn.request("POST", request["path"], body=request["body"].encode(),
                             headers=headers)  # fmt: skip
                response = conn.getresponse()
                answer = response.read()
                code = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                answer, code = b"", type(exc).__name__
            took = time.monotonic() - sent
            said = ""
            if code.startswith("2"):
                try:
                    said = str(json.loads(answer).get("status", ""))
                except ValueError:
                    said = "?"
            with lock:
                latencies.append(took)
                statuses[code] = statuses.get(code, 0) + 1
                answers[said] = answers.get(said, 0) + 1
                if code.startswith("2") and args.expect.encode() in answer:
                    good += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "concurrency": args.concurrency,
        "requests": len(latencies),
        "good": good,
        "seconds": elapsed,
        "good_per_second": good / elapsed if elapsed else float("nan"),
        "errors": sum(v for k, v in statuses.items() if not k.startswith("2")),
        "statuses": statuses,
        "answers": answers,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cpu_seconds": time.process_time(),
    }


if __name__ == "__main__":
    main()
