"""Property-based fuzzing of every route: random and hostile input through
every form, query string, URL parameter and JSON body, as every role.
The property: never a 500, and every response within 2 seconds.

Used by tests/test_fuzz.py (a few hundred cases per run, in CI) and by
bench/fuzz.py (many thousands, figures in bench/results/fuzz.txt)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from hypothesis import strategies as st

from .conftest import csrf_from, login_client

RESPONSE_LIMIT = 2.0
SKIP_ENDPOINTS = {"static", "auth.logout", "auth.password"}  # would end the fuzzing client's own session

HOSTILE = [
    "", " ", "\x00", "a\x00b", "²", "٣", "9" * 30, "-1", "0", "2147483648", "99999999999999999999", "1e309", "NaN",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE users;--", "{{7*7}}", "${7*7}",
    "%s%s%s%n", "../../etc/passwd", "\u202eabc", "\ufeffx", "\u200b", "a" * 5000, "[" * 30000, "_" * 30000,
    "![" * 15000, "<a " * 10000, "9999-12-31", "0001-01-01", "2026-02-30", "javascript:alert(1)", "//evil.example",
    "\\\\evil", "\r\n\r\n", "\t=1+1", "=HYPERLINK(1)", "service:skck", "question:1", "service:" + "x" * 200,
    "service:tidak-ada", "question:999999999999", "ya", "tidak", "1", "2", "3", "4", "5", "spam", "data-pribadi",
    "lainnya", "gratis", "faq", "change", "draft", "kantor", "😀" * 50, "ktp hilang gmn", "3201231508900001",
    "0812-3456-7890", "budi [at] gmail [dot] com", "&#51;201<!-- -->231508900001",
]
FIELDS = [
    "title", "body", "tags", "services", "comment", "reason", "note", "target", "version", "value", "username",
    "password", "confirm", "email", "remember", "helpful", "summary", "q", "k", "types", "page", "per_page", "sort",
    "tag", "service", "urut", "layanan", "dari", "sampai", "lang", "next", "d", "s", "r", "f", "days", "action",
    "kind", "question", "answer", "slug", "draf", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "judul",
    "back", "interval", "requirements", "fees", "duration", "steps", "channels", "legal_basis", "contact", "notes",
    "aliases", "sources", "category", "agency", "status",
]

text_values = st.one_of(st.sampled_from(HOSTILE),
                        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
form_data = st.dictionaries(st.sampled_from(FIELDS), st.one_of(text_values, st.lists(text_values, max_size=3)),
                            max_size=8)
query_data = st.dictionaries(st.sampled_from(FIELDS), text_values, max_size=5)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                      st.floats(allow_nan=False), text_values)
json_values = st.recursive(json_leaf, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.sampled_from(FIELDS), children, max_size=5)), max_leaves=12)
raw_json = st.one_of(
    json_values.map(json.dumps),
    st.sampled_from([
        "[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000, '{"title": "\\ud800", "body": "\\udfff x"}',
        '{"title": 1e999999}', "{", "", "null", '"just a string"', '{"body": "' + "a" * 200_000 + '"}',
        '{"tags": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}',
        '{"title": "Pertanyaan tentang KTP-el hilang", "body": "\\u0000\\ud83d", "services": ["\\ud800"]}',
    ]),
)
path_int = st.one_of(st.integers(min_value=0, max_value=3000), st.sampled_from([2**31 - 1, 1, 2, 3]))
path_text = st.one_of(st.sampled_from(["skck", "paspor-baru", "sembunyikan", "kunci", "gabung", "x" * 300, "%00",
                                       "..", "tidak-ada", "ktp-el-baru"]),
                      st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
ROLES = ("anon", "member", "moderator", "km", "admin")


@dataclass
class Fuzzer:
    app: object
    rules: list = field(default_factory=list)
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    cases: int = 0
    slowest: float = 0.0
    statuses: dict = field(default_factory=dict)

    @classmethod
    def build(cls, app, make_user):
        from core.models import Role

        self = cls(app)
        for role, name in (("member", Role.MEMBER), ("moderator", Role.MODERATOR),
                           ("km", Role.KNOWLEDGE_MANAGER), ("admin", Role.ADMIN)):
            make_user(f"fz_{role}", role=name)
        for role in ROLES:
            client = app.test_client() if role == "anon" else login_client(app, f"fz_{role}")
            self.clients[role] = client
            self.tokens[role] = csrf_from(client.get("/masuk" if role == "anon" else "/").get_data(as_text=True))
        self.rules = [r for r in app.url_map.iter_rules()
                      if r.endpoint not in SKIP_ENDPOINTS and not r.rule.startswith("/static")]
        return self

    def path_for(self, rule, draw) -> str:
        parts = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            if converter.__class__.__name__.endswith("IntConverter") or "Integer" in converter.__class__.__name__:
                parts[name] = draw(path_int)
            else:
                parts[name] = draw(path_text)
        path = rule.rule
        for name, value in parts.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", quote(str(value), safe=""))
        return path

    def run(self, role: str, method: str, path: str, *, query=None, form=None, body=None, token=True):
        client = self.clients[role]
        headers = {}
        started = time.perf_counter()
        if method == "GET":
            resp = client.get(path, query_string=query or {})
        elif body is not None:
            if token:
                headers["X-CSRFToken"] = self.tokens[role]
            resp = client.post(path, data=body.encode("utf-8", "surrogatepass"), content_type="application/json",
                               headers=headers)
        else:
            data = dict(form or {})
            if token:
                data["csrf_token"] = self.tokens[role]
            resp = client.post(path, data=data)
        elapsed = time.perf_counter() - started
        resp.close()
        self.cases += 1
        self.slowest = max(self.slowest, elapsed)
        self.statuses[resp.status_code] = self.statuses.get(resp.status_code, 0) + 1
        where = f"{role} {method} {path} query={str(query)[:200]} form={str(form)[:200]} json={str(body)[:200]}"
        assert resp.status_code < 500, f"{resp.status_code}: {where}"
        assert elapsed < RESPONSE_LIMIT, f"{elapsed:.2f} s: {where}"
        return resp
