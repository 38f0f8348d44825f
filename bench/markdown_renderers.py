"""Markdown renderers on pathological input (cmark's pathological tests plus
the attack on this site), each case at the largest size a form accepts.

Every case runs in a worker process with a time limit, so a quadratic or
exponential renderer shows up as "> LIMIT" instead of hanging the bench.
Times are for rendering only; ``--with-sanitizer`` adds nh3 after the
renderer, as ``core.markup.render_markdown`` does.

    .venv/bin/python bench/markdown_renderers.py [--size 30000] [--limit 10] [--renderers cmarkgfm,markdown-it,...]

The comparison renderers are not runtime dependencies:
``pip install -r requirements-bench.txt`` first (missing ones are skipped).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _python_markdown():
    import markdown

    return lambda text: markdown.markdown(text, extensions=["tables", "sane_lists", "fenced_code"],
                                          output_format="html")


def _markdown_it():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
    return md.render


def _mistune():
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return md


def _cmarkgfm():
    import cmarkgfm
    from cmarkgfm.cmark import Options

    opts = Options.CMARK_OPT_VALIDATE_UTF8
    return lambda text: cmarkgfm.github_flavored_markdown_to_html(text, options=opts)


def _current():
    from core.markup import render_markdown

    return render_markdown


RENDERERS = {"python-markdown": _python_markdown, "markdown-it": _markdown_it, "mistune": _mistune,
             "cmarkgfm": _cmarkgfm, "render_markdown": _current}


def _worker(name: str, with_sanitizer: bool, conn) -> None:
    render = RENDERERS[name]()
    if with_sanitizer and name != "render_markdown":
        from core.markup import sanitize_html

        inner = render
        render = lambda text: sanitize_html(inner(text))  # noqa: E731
    while True:
        text = conn.recv()
        if text is None:
            return
        started = time.perf_counter()
        render(text)
        conn.send(time.perf_counter() - started)


class Runner:
    def __init__(self, name: str, with_sanitizer: bool):
        self.name, self.with_sanitizer = name, with_sanitizer
        self.proc = None

    def _start(self):
        parent, child = mp.Pipe()
        self.conn = parent
        self.proc = mp.Process(target=_worker, args=(self.name, self.with_sanitizer, child), daemon=True)
        self.proc.start()

    def time(self, text: str, limit: float) -> float | None:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send(text)
        if self.conn.poll(limit):
            return self.conn.recv()
        self.proc.kill()
        self.proc.join()
        self.proc = None
        return None

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(2)


def main() -> None:
    from core.pathological import corpus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=30_000, help="characters per case (the body limit is 30,000)")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds before a case counts as failed")
    parser.add_argument("--renderers", default=",".join(RENDERERS))
    parser.add_argument("--with-sanitizer", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is shown")
    args = parser.parse_args()

    cases = corpus(args.size)
    names = []
    for name in args.renderers.split(","):
        try:
            RENDERERS[name]()
            names.append(name)
        except ImportError as exc:
            print(f"skipping {name}: {exc} (pip install -r requirements-bench.txt)")
    print(f"{len(cases)} cases at {args.size} characters, median of {args.repeat}, limit {args.limit:.0f} s, "
          f"sanitizer {'on' if args.with_sanitizer else 'off'}, load average {os.getloadavg()[0]:.2f}")
    results: dict[str, dict[str, float | None]] = {}
    for name in names:
        runner = Runner(name, args.with_sanitizer)
        results[name] = {}
        for case, text in cases.items():
            times = []
            for _ in range(args.repeat):
                t = runner.time(text, args.limit)
                if t is None:
                    times = None
                    break
                times.append(t)
            results[name][case] = statistics.median(times) if times else None
        runner.close()

    width = max(len(c) for c in cases)
    print(f"{'case':<{width}}  " + "  ".join(f"{n:>15}" for n in names))
    for case in cases:
        cells = []
        for name in names:
            t = results[name][case]
            cells.append(f"{'> %.0f s' % args.limit:>15}" if t is None else f"{t * 1000:>12.1f} ms")
        print(f"{case:<{width}}  " + "  ".join(cells))
    print()
    for name in names:
        times = [t for t in results[name].values() if t is not None]
        failed = sum(1 for t in results[name].values() if t is None)
        over = sum(1 for t in results[name].values() if t is None or t > 0.2)
        worst = max(times) * 1000 if times else float("nan")
        print(f"{name:>15}: worst {worst:8.1f} ms (of cases that finished), {failed} over {args.limit:.0f} s, "
              f"{over} of {len(cases)} over the 200 ms target")


if __name__ == "__main__":
    main()
