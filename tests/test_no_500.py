"""Every route, fed odd input by an anonymous visitor and a logged-in member,
answers with something other than a 500."""

import pytest
from werkzeug.routing import IntegerConverter

from .conftest import csrf_from, login_client

ODD = ["0", "-1", "99999999999999999999", "abc", "²", "%00", "..%2F..%2Fetc%2Fpasswd", "<script>", "ktp' OR 1=1--",
       "ä" * 300]


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def fill(rule, value):
    path = rule.rule
    for arg in rule.arguments:
        if isinstance(rule._converters[arg], IntegerConverter):
            path = path.replace(f"<int:{arg}>", value[:12] if value.isascii() and value.isdigit() else "1")
        else:
            path = path.replace(f"<{arg}>", value)
    return path


@pytest.mark.parametrize("who", ["anon", "member"])
def test_no_route_answers_500(app, make_user, who):
    if who == "member":
        make_user("penguji")
        client = login_client(app, "penguji")
    else:
        client = app.test_client()
    token = csrf_from(client.get("/masuk" if who == "anon" else "/").get_data(as_text=True))
    for rule in routes(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session under test
        for value in ODD[:6]:
            path = fill(rule, value)
            for query in ("", "?q=" + ODD[-1], "?page=-3&urut=%00&tag=<x>&layanan=../x&lang=xx",
                          "?page=²&k=²&s=99999999999&r=²&draf=99999999999&d=question:²&q=a%00b"):
                if "GET" in rule.methods:
                    resp = client.get(path + query)
                    assert resp.status_code < 500, (path + query, resp.status_code)
                if "POST" in rule.methods:
                    for data in ({}, {"csrf_token": token, "body": ODD[-1], "title": "<script>", "value": "x",
                                      "version": "-1", "target": "abc", "reason": "x", "tags": "!!"},
                                 {"csrf_token": token, "body": "isi\x00" * 20, "title": "judul\x00 " * 5, "days": "²",
                                  "version": "²", "target": "99999999999", "reason": "spam\x00", "tags": "a\x00b"}):
                        resp = client.post(path + query, data=data)
                        assert resp.status_code < 500, (path + query, data.keys(), resp.status_code)
