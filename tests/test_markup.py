"""XSS corpus through render_markdown: Markdown -> HTML -> sanitiser."""
import re

import pytest

from core.markup import plain_text, render_markdown

VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<body onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[klik](javascript:alert(1))",
    "[klik](JaVaScRiPt:alert(1))",
    "[klik](java\tscript:alert(1))",
    "[klik](javascript&#58;alert(1))",
    "[klik](&#x6A;avascript:alert(1))",
    "[klik](javascript\u200b:alert(1))",
    "[klik](vbscript:msgbox(1))",
    "[klik](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![gambar](javascript:alert(1))",
    "![gambar](data:image/svg+xml,<svg onload=alert(1)>)",
    "<a href=\"//evil.example\">x</a>",
    "[x](//evil.example)",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<p style=\"x:expression(alert(1))\">x</p>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<style>@import 'javascript:alert(1)';</style>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=\"x\" alt=\"\" onerror=\"alert(1)\"/>",
]

_EVENT = re.compile(r"<[^>]+\son\w+\s*=", re.I)
_BAD_TAG = re.compile(r"<\s*/?\s*(script|iframe|object|embed|svg|math|style|form|input|button|meta|base|img|body|details|noscript)\b", re.I)
_HREF = re.compile(r"""\b(?:href|src|action|formaction)\s*=\s*["']?([^"'\s>]*)""", re.I)


@pytest.mark.parametrize("source", VECTORS)
def test_no_executable_html_survives(source):
    html = render_markdown(source)
    assert not _EVENT.search(html), html
    assert not _BAD_TAG.search(html), html
    assert "style=" not in html.lower()
    for url in _HREF.findall(html):
        assert url.lower().startswith(("http://", "https://", "mailto:")), (url, html)


@pytest.mark.parametrize("source", VECTORS)
def test_sanitising_is_idempotent(source):
    once = render_markdown(source)
    from core.markup import sanitize_html

    assert sanitize_html(once) == once


def test_ordinary_markdown_is_kept():
    html = render_markdown("**Tebal** dan *miring*\n\n- satu\n- dua\n\n[Situs resmi](https://www.lapor.go.id)\n\n`kode`")
    assert "<strong>Tebal</strong>" in html and "<em>miring</em>" in html and "<li>dua</li>" in html
    assert '<a href="https://www.lapor.go.id" rel="nofollow ugc noopener">Situs resmi</a>' in html
    assert "<code>kode</code>" in html


def test_code_blocks_escape_markup():
    html = render_markdown("```\n<script>alert(1)</script>\n```")
    assert "&lt;script&gt;" in html


def test_plain_text():
    assert plain_text("<p>Biaya &amp; <b>syarat</b></p>") == "Biaya & syarat"


# ---------------------------------------------------------------- bounded work on pathological input
# cmark's pathological-input tests plus the attack on this site, each at the
# largest body a form accepts.  The 200 ms target is measured by
# bench/markdown_renderers.py; here a generous bound catches any return of a
# super-linear renderer (Python-Markdown took 145 s on "[" * 30000).
from core.pathological import corpus  # noqa: E402
from forum.services import BODY_MAX  # noqa: E402

PATHOLOGICAL = corpus(BODY_MAX)


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_input_renders_quickly(name):
    import time

    started = time.perf_counter()
    html = render_markdown(PATHOLOGICAL[name])
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{name}: {elapsed:.2f} s"
    assert "<script" not in html


def test_lone_surrogates_and_nuls_do_not_break_rendering():
    assert "a" in render_markdown("a\ud800b\x00c")


def test_only_safe_links_survive():
    html = render_markdown("[a](/layanan/skck) [b](#x) [c](foo/bar) [d](javascript%3Aalert(1)) [e](%2F%2Fevil.example)")
    assert 'href="/layanan/skck"' in html and 'href="#x"' in html
    assert "foo/bar" not in html and "javascript" not in html and "evil" not in html
