"""No 500 from input, and no request over 2 s: hypothesis drives every form,
query string, URL parameter and JSON endpoint with random and hostile input
as every role (tests/fuzzing.py).  CI runs a few hundred cases; bench/fuzz.py
runs many thousands and records the count."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzzing import ROLES, Fuzzer, form_data, query_data, raw_json

EXAMPLES = int(os.environ.get("LAYANAN_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    derandomize=os.environ.get("LAYANAN_FUZZ_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


@pytest.fixture
def fuzzer(app, make_user, request):
    fz = Fuzzer.build(app, make_user)
    yield fz
    report = os.environ.get("LAYANAN_FUZZ_REPORT")
    if report:  # bench/fuzz.py collects the figures
        import json

        with open(report, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": request.node.name, "cases": fz.cases, "slowest": round(fz.slowest, 3),
                                  "statuses": fz.statuses}) + "\n")


def test_every_get_route_with_random_paths_and_queries(fuzzer):
    rules = [r for r in fuzzer.rules if "GET" in r.methods]

    @SETTINGS
    @given(data=st.data())
    def case(data):
        rule = data.draw(st.sampled_from(rules))
        fuzzer.run(data.draw(st.sampled_from(ROLES)), "GET", fuzzer.path_for(rule, data.draw),
                   query=data.draw(query_data))

    case()
    assert fuzzer.cases >= EXAMPLES


def test_every_form_with_random_and_hostile_fields(fuzzer):
    rules = [r for r in fuzzer.rules if "POST" in r.methods and not r.rule.startswith("/api/")]

    @SETTINGS
    @given(data=st.data())
    def case(data):
        rule = data.draw(st.sampled_from(rules))
        fuzzer.run(data.draw(st.sampled_from(ROLES)), "POST", fuzzer.path_for(rule, data.draw),
                   form=data.draw(form_data), token=data.draw(st.booleans().map(lambda b: b or True)))

    case()
    assert fuzzer.cases >= EXAMPLES


def test_every_json_endpoint_with_random_and_hostile_bodies(fuzzer):
    rules = [r for r in fuzzer.rules if "POST" in r.methods and r.rule.startswith("/api/")]
    assert rules

    @SETTINGS
    @given(data=st.data())
    def case(data):
        rule = data.draw(st.sampled_from(rules))
        fuzzer.run(data.draw(st.sampled_from(ROLES)), "POST", fuzzer.path_for(rule, data.draw),
                   body=data.draw(raw_json))

    case()
    assert fuzzer.cases >= EXAMPLES


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"title": "\\ud800 judul pertanyaan panjang", '
                                                                 '"body": "isi \\udfff yang cukup panjang sekali"}'])
def test_the_attacks_json_examples_are_refused_or_harmless(fuzzer, body):
    resp = fuzzer.run("member", "POST", "/api/v1/questions", body=body)
    assert resp.status_code in (201, 400)
