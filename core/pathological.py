"""Pathological Markdown inputs, after cmark's ``test/pathological_tests.py``
(commonmark/cmark) plus the cases an attack on this site used.  Each case is
a function of a length budget that returns a text of about that many
characters, so every case can be rendered at the largest size a form
accepts.  Used by ``tests/test_markup.py`` and ``bench/markdown_renderers.py``.
"""
from __future__ import annotations


def _repeat(unit: str, size: int, prefix: str = "", suffix: str = "") -> str:
    n = max(1, (size - len(prefix) - len(suffix)) // max(1, len(unit)))
    return prefix + unit * n + suffix


def _nested(open_: str, close: str, middle: str, size: int) -> str:
    n = max(1, (size - len(middle)) // (len(open_) + len(close)))
    return open_ * n + middle + close * n


def _lines(make, size: int) -> str:
    out, total, i = [], 0, 0
    while True:
        line = make(i)
        if total + len(line) > size:
            break
        out.append(line)
        total += len(line)
        i += 1
    return "".join(out)


CASES: dict[str, object] = {
    # cmark's pathological tests
    "nested strong emph": lambda s: _nested("*a **a ", " a** a*", "b", s),
    "many emph closers with no openers": lambda s: _repeat("a_ ", s),
    "many emph openers with no closers": lambda s: _repeat("_a ", s),
    "many 3-emph openers with no closers": lambda s: _repeat("a***", s),
    "many link closers with no openers": lambda s: _repeat("a]", s),
    "many link openers with no closers": lambda s: _repeat("[a", s),
    "mismatched openers and closers": lambda s: _repeat("*a_ ", s),
    "openers and closers multiple of 3": lambda s: _repeat("c* ", s, prefix="a**b"),
    "link openers and emph closers": lambda s: _repeat("[ a_", s),
    "pattern [ (]( repeated": lambda s: _repeat("[ (](", s),
    "pattern ![[]() repeated": lambda s: _repeat("![[]()", s),
    "hard link/emph case": lambda s: _repeat("**x [a*b**c*](d)", s),
    "nested brackets": lambda s: _nested("[", "]", "a", s),
    "nested block quotes": lambda s: _repeat("> ", s, suffix="a\n"),
    "deeply nested lists": lambda s: _lines(lambda i: "  " * i + "* a\n", s),
    "U+0000 in input": lambda s: _repeat("abc\u0000de\u0000", s),
    "backticks": lambda s: _lines(lambda i: "e" + "`" * (i + 1), s),
    "unclosed links A": lambda s: _repeat("[a](<b", s),
    "unclosed links B": lambda s: _repeat("[a](b", s),
    "unclosed <!--": lambda s: _repeat("<!--", s, prefix="</"),
    "many link reference definitions": lambda s: _lines(lambda i: f"[{i}]: u\n", s // 2) + _repeat("[0] ", s // 2),
    "reference collisions": lambda s: _lines(lambda i: f"[a{'b' * (i % 50)}]: u\n", s // 2) + _repeat("[ab] ", s // 2),
    "many nested ordered lists": lambda s: _lines(lambda i: "   " * i + "1. a\n", s),
    "table with many columns": lambda s: _repeat("|a", s // 2, suffix="|\n") + _repeat("|-", s // 2, suffix="|\n"),
    "many table rows": lambda s: "|a|b|\n|-|-|\n" + _repeat("|x|y|\n", s - 12),
    "many setext headings": lambda s: _repeat("a\n=\n", s),
    "long line of underscores": lambda s: "_" * s,
    # the attack on this site
    "long run of [": lambda s: "[" * s,
    "long run of ![": lambda s: _repeat("![", s),
    "long run of [a](": lambda s: _repeat("[a](", s),
    "long run of <a ": lambda s: _repeat("<a ", s),
    "long run of *": lambda s: "*" * s,
    "long run of backticks": lambda s: "`" * s,
    "long run of <": lambda s: "<" * s,
    "html comment inside digits": lambda s: _repeat("3171<!-- -->2345 ", s),
    "entity flood": lambda s: _repeat("&#51;", s),
}


def corpus(size: int) -> dict[str, str]:
    """Every case at about ``size`` characters (never more)."""
    return {name: make(size)[:size] for name, make in CASES.items()}
