"""Every route, fed odd input by an anonymous visitor and a logged-in member,
answers with something other than a 500."""

import pytest

from .conftest import csrf_from, login_client

ODD = ["0", "-1", "99999999999999999999", "abc", "%00", "..%2F..%2Fetc%2Fpasswd", "<script>", "ktp' OR 1=1--",
       "ä" * 300]


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def fill(rule, value):
    path = rule.rule
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        path = path.replace(f"<int:{arg}>", "1" if not value.isdigit() else value[:12]) if conv == "IntegerConverter" \
            else path.replace(f"<{arg}>", value)
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
        for value in ODD[:4]:
            path = fill(rule, value)
            for query in ("", "?q=" + ODD[-1], "?page=-3&urut=%00&tag=<x>&layanan=../x&lang=xx"):
                if "GET" in rule.methods:
                    resp = client.get(path + query)
                    assert resp.status_code < 500, (path + query, resp.status_code)
                if "POST" in rule.methods:
                    for data in ({}, {"csrf_token": token, "body": ODD[-1], "title": "<script>", "value": "x",
                                      "version": "-1", "target": "abc", "reason": "x", "tags": "!!"}):
                        resp = client.post(path + query, data=data)
                        assert resp.status_code < 500, (path + query, data.keys(), resp.status_code)
