"""kill -9 during writes: no acknowledged post may be lost.

Starts the app under gunicorn (2 workers) on loopback, lets several clients
post answers through the JSON API, SIGKILLs the whole server group at
random moments, restarts it, and finally checks that every answer the
server acknowledged (HTTP 201) is in the database and, on SQLite, that the
integrity check passes.  With --database-url it runs on a new database on
that PostgreSQL server instead (the app server is killed; PostgreSQL is not).

    .venv/bin/python bench/kill9_writes.py [--kills 3] [--clients 4] [--seconds 4]
                                           [--database-url postgresql+psycopg://user@127.0.0.1:5432/postgres]

Every response is read and closed: gunicorn's sync workers linger up to 2 s
for the client to close its end (RFC 9112 graceful close), so a client that
leaves responses open holds a worker that long.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import threading
import time
import urllib.error
import urllib.request

import sqlalchemy as sa
from _server import cleanup, connect, create_users, kill, prepare, start

PORT = 8093


class Client:
    def __init__(self, name: str):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.name = name

    def request(self, path, data=None, headers=None, method=None) -> tuple[int, bytes]:
        """Status and body; the response is read and closed."""
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, headers=headers or {}, method=method)
        with self.opener.open(req, timeout=10) as resp:
            return resp.status, resp.read()

    def login(self):
        page = self.request("/masuk")[1].decode()
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        body = urllib.parse.urlencode({"csrf_token": token, "username": self.name,
                                       "password": "kata-sandi-bench"}).encode()
        self.request("/masuk", body, {"Content-Type": "application/x-www-form-urlencoded"})
        self.csrf = json.loads(self.request("/api/v1/csrf")[1])["csrf_token"]


def main() -> None:
    import urllib.parse  # noqa: F401

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0, help="write time before each kill (randomised)")
    parser.add_argument("--database-url", help="a PostgreSQL server to run on (a database is created and dropped)")
    args = parser.parse_args()

    work, env = prepare(encoder="none", server_url=args.database_url)
    backend = sa.make_url(env["DATABASE_URL"]).get_backend_name()
    names = [f"penulis{i}" for i in range(args.clients)]
    create_users(env, names)
    with connect(env) as conn:
        question_id = conn.scalar(sa.text("SELECT id FROM forum_questions LIMIT 1"))
    started = time.perf_counter()
    acked: list[str] = []
    http_errors: dict[int, int] = {}
    unacked = 0
    lock = threading.Lock()
    rng = random.Random(9)
    try:
        for round_no in range(args.kills):
            proc = start(env, PORT)
            stop = threading.Event()

            def writer(name):
                nonlocal unacked
                client = Client(name)
                try:
                    client.login()
                except Exception:
                    return
                n = 0
                while not stop.is_set():
                    marker = f"jejak-{round_no}-{name}-{n}"
                    n += 1
                    body = json.dumps({"body": f"Jawaban uji ketahanan {marker} dengan isi yang cukup panjang."}).encode()
                    try:
                        status, _ = client.request(f"/api/v1/questions/{question_id}/answers", body,
                                                   {"Content-Type": "application/json", "X-CSRFToken": client.csrf})
                        if status == 201:
                            with lock:
                                acked.append(marker)
                    except urllib.error.HTTPError as exc:
                        with lock:
                            http_errors[exc.code] = http_errors.get(exc.code, 0) + 1
                    except (urllib.error.URLError, ConnectionError, OSError):
                        with lock:
                            unacked += 1
                        return

            threads = [threading.Thread(target=writer, args=(n,)) for n in names]
            [t.start() for t in threads]
            time.sleep(args.seconds * rng.uniform(0.5, 1.5))
            kill(proc)
            stop.set()
            [t.join() for t in threads]
            print(f"round {round_no + 1}: killed with SIGKILL; acknowledged so far {len(acked)}")
        elapsed = time.perf_counter() - started
        with connect(env) as conn:
            integrity = conn.scalar(sa.text("PRAGMA integrity_check")) if backend == "sqlite" else "n/a (PostgreSQL)"
            stored = "\n".join(conn.scalars(sa.text("SELECT body_md FROM forum_posts")))
        lost = [m for m in acked if m not in stored]
        print(f"\n{backend}: acknowledged posts: {len(acked)} in {elapsed:.0f} s, lost after {args.kills} kills: "
              f"{len(lost)}, requests cut off without an answer: {unacked}, HTTP errors: {http_errors or 'none'}, "
              f"integrity_check: {integrity}")
        if lost or integrity not in ("ok", "n/a (PostgreSQL)"):
            raise SystemExit(1)
    finally:
        cleanup(work, env)


if __name__ == "__main__":
    main()
