"""Run the property-based fuzz suite (tests/test_fuzz.py, tests/fuzzing.py)
with many cases and print how many ran, the status codes seen and the
slowest response.  The property: no 500, every response under 2 s.

    .venv/bin/python bench/fuzz.py [--examples 3000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=3000, help="hypothesis examples per fuzz test")
    args = parser.parse_args()
    report = Path(tempfile.mkdtemp()) / "fuzz.jsonl"
    env = dict(os.environ, LAYANAN_FUZZ_EXAMPLES=str(args.examples), LAYANAN_FUZZ_REPORT=str(report),
               LAYANAN_FUZZ_RANDOM="1")  # new random cases each run (CI is derandomized)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    total = sum(r["cases"] for r in rows)
    statuses: dict[str, int] = {}
    for r in rows:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    print(f"pytest exit code {result.returncode} in {elapsed:.0f} s; load average {os.getloadavg()[0]:.2f}")
    for r in rows:
        print(f"  {r['test']:<70} {r['cases']:>6} cases, slowest {r['slowest'] * 1000:7.1f} ms")
    print(f"total: {total} requests, status codes {dict(sorted(statuses.items()))}, "
          f"500s: {statuses.get('500', 0)}, slowest {max((r['slowest'] for r in rows), default=0) * 1000:.1f} ms")
    if result.returncode:
        print(result.stdout[-3000:])


if __name__ == "__main__":
    main()
