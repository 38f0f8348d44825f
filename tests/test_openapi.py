"""The OpenAPI 3.1 document of /api/v1 (api/openapi.yaml) is valid, covers
every route and only real ones, repeats the code's enums and bounds, and
real responses from the app (happy paths and every documented error, as a
visitor and logged in) validate against the schema documented for their
status."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from api import spec as load_spec
from core.extensions import db
from core.models import Role

from .conftest import clone, login_client, make_app

SPEC = load_spec()
URI = "urn:layanan:openapi"
REGISTRY = Registry().with_resource(URI, DRAFT202012.create_resource(SPEC))
BODY = "Saya sudah datang ke kantor dua kali tetapi diminta kembali minggu depan."
TITLE = "Apakah SKCK bisa diurus di Polsek untuk melamar kerja?"


# ---------------------------------------------------------------- helpers

def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _resolve(obj: dict, pointer: str) -> tuple[dict, str]:
    """Follow a local ``$ref`` (responses, parameters, headers) in the spec."""
    while "$ref" in obj:
        pointer = obj["$ref"].lstrip("#")
        obj = SPEC
        for part in pointer.strip("/").split("/"):
            obj = obj[part.replace("~1", "/").replace("~0", "~")]
    return obj, pointer


def validator(pointer: str) -> OAS31Validator:
    return OAS31Validator({"$ref": f"{URI}#{pointer}"}, registry=REGISTRY, format_checker=oas31_format_checker)


def assert_valid(instance, pointer: str, what: str) -> None:
    errors = sorted(validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5])


def template_of(path: str) -> tuple[str, dict]:
    """The documented path template (relative to the server) a real path matches."""
    rel = path.split("?")[0].removeprefix("/api/v1")
    for template in SPEC["paths"]:
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, rel):
            return template, SPEC["paths"][template]
    raise AssertionError(f"{rel} is not documented")


def check(resp, method: str, path: str, status: int | None = None):
    """Assert the response is documented for this operation and status and
    matches its schema and required headers; return its JSON body."""
    if status is not None:
        assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    template, item = template_of(path)
    op = item[method.lower()]
    code = str(resp.status_code)
    key = next((k for k in (code, f"{code[0]}XX", "default") if k in op["responses"]), None)
    assert key, f"{method} {template}: status {code} is not documented"
    base = f"/paths/{_escape(template)}/{method.lower()}/responses/{key}"
    response, base = _resolve(op["responses"][key], base)
    for name, header in (response.get("headers") or {}).items():
        header, hptr = _resolve(header, f"{base}/headers/{_escape(name)}")
        value = resp.headers.get(name)
        if header.get("required"):
            assert value is not None, f"{method} {template} {code}: header {name} missing"
        if value is not None:
            typed = int(value) if header["schema"].get("type") == "integer" else value
            assert_valid(typed, f"{hptr}/schema", f"{method} {template} {code} header {name}")
    if "content" not in response:
        assert not resp.get_data(), f"{method} {template} {code}: undocumented body"
        return None
    assert resp.mimetype == "application/json", f"{method} {template} {code}: {resp.mimetype}"
    body = resp.get_json()
    assert_valid(body, f"{base}/content/application~1json/schema", f"{method} {template} {code}")
    return body


def request_valid(path_template: str, payload) -> None:
    assert_valid(payload, f"/paths/{_escape(path_template)}/post/requestBody/content/application~1json/schema",
                 f"request body for {path_template}")


def csrf(client) -> dict:
    body = check(client.get("/api/v1/csrf"), "GET", "/api/v1/csrf", 200)
    return {"X-CSRFToken": body["csrf_token"]}


def _users(app):
    from core.auth.services import create_user

    with app.app_context():
        for name, role in (("warga_api", Role.MEMBER), ("mod_api", Role.MODERATOR), ("tamu_api", Role.MEMBER)):
            create_user(name, "kata-sandi-aman", role=role)


# ---------------------------------------------------------------- the document

def test_document_is_valid_openapi_31():
    validate_spec(SPEC)  # raises on any problem
    assert SPEC["openapi"].startswith("3.1.")
    assert SPEC["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert [s["url"] for s in SPEC["servers"]] == ["/api/v1"]
    assert "Bahasa Indonesia" in SPEC["info"]["description"] and "English" in SPEC["info"]["description"]


def test_every_api_route_is_documented_and_every_documented_path_exists(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            template = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((template, method.lower()))
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    assert routes == documented, {"undocumented": routes - documented, "not served": documented - routes}


def test_enums_and_bounds_are_the_codes_own():
    from forum import services as forum_services
    from forum.queries import SORTS
    from kb import record
    from kb.registry import REG_STATUSES, REG_TYPES
    from search.views import KINDS

    schemas = SPEC["components"]["schemas"]
    params = {(path, p["name"]): p["schema"] for path, item in SPEC["paths"].items()
              for op in item.values() for p in (_resolve(x, "")[0] for x in op.get("parameters", []))}
    assert params[("/questions", "sort")]["enum"] == list(SORTS)
    assert params[("/search", "types")]["items"] == {"$ref": "#/components/schemas/DocumentType"}
    assert schemas["DocumentType"]["enum"] == list(KINDS)
    assert schemas["Fee"]["properties"]["kind"]["enum"] == list(record.FEE_KINDS)
    assert schemas["DurationPart"]["properties"]["unit"]["enum"] == list(record.UNITS)
    assert schemas["Channel"]["properties"]["kind"]["enum"] == list(record.CHANNEL_KINDS)
    assert schemas["FieldGroup"]["enum"] == list(record.GROUPS)
    assert schemas["Regulation"]["properties"]["type"]["enum"] == list(REG_TYPES)
    assert schemas["Regulation"]["properties"]["status"]["enum"] == list(REG_STATUSES)
    assert schemas["Rupiah"]["maximum"] == record.MAX_FEE
    assert schemas["DurationPart"]["properties"]["max"]["maximum"] == record.MAX_DURATION
    title = schemas["NewQuestion"]["properties"]["title"]
    body = schemas["NewQuestion"]["properties"]["body"]
    assert (title["minLength"], title["maxLength"]) == (forum_services.TITLE_MIN, forum_services.TITLE_MAX)
    assert (body["minLength"], body["maxLength"]) == (forum_services.BODY_MIN, forum_services.BODY_MAX)
    assert schemas["NewAnswer"]["properties"]["body"] == body
    assert schemas["NewQuestion"]["properties"]["services"]["maxItems"] == forum_services.MAX_SERVICES
    assert schemas["QuestionFields"]["properties"]["tags"]["items"]["pattern"] == forum_services.TAG_RE.pattern
    assert params[("/search", "k")]["maximum"] == 50 and params[("/questions/similar", "k")]["maximum"] == 20
    assert SPEC["components"]["parameters"]["QuestionId"]["schema"]["maximum"] == 2**31 - 1


def test_document_is_served_cacheable(client):
    resp = client.get("/api/v1/openapi.json")
    body = check(resp, "GET", "/api/v1/openapi.json", 200)
    assert body == SPEC
    assert resp.headers["ETag"] and "max-age" in resp.headers["Cache-Control"]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": resp.headers["ETag"]})
    check(again, "GET", "/api/v1/openapi.json", 304)
    assert again.headers["ETag"] == resp.headers["ETag"]


# ---------------------------------------------------------------- services

def test_services_responses_match(client):
    data = check(client.get("/api/v1/services"), "GET", "/api/v1/services", 200)
    assert data["count"] == len(data["services"]) >= 80  # every bundled page validates
    for query in ("category=kepolisian", "agency=imigrasi", "category=", "category=kepolisian&agency=polri"):
        check(client.get(f"/api/v1/services?{query}"), "GET", "/api/v1/services", 200)
    for query in ("category=tidak-ada", "agency=tidak-ada", "category=" + "x" * 500):
        body = check(client.get(f"/api/v1/services?{query}"), "GET", "/api/v1/services", 400)
        assert "tidak dikenal" in body["error"]["message"]
    data = check(client.get("/api/v1/services/paspor-baru"), "GET", "/api/v1/services/paspor-baru", 200)
    assert data["slug"] == "paspor-baru" and data["url"].startswith("http")
    for slug in ("tidak-ada", "x" * 3000, "%E2%80%8B"):
        check(client.get(f"/api/v1/services/{slug}"), "GET", "/api/v1/services/x", 404)


# ---------------------------------------------------------------- search

@pytest.fixture(params=[False, True], ids=["anonymous", "logged-in"])
def viewer(request, app):
    """A client for each kind of caller: anonymous, then a logged-in member."""
    if request.param:
        _users(app)
        return login_client(app, "warga_api")
    return app.test_client()


def test_search_responses_match(viewer):
    c = viewer
    path = "/api/v1/search"
    data = check(c.get(path, query_string={"q": "paspor hilang"}), "GET", path, 200)
    assert data["results"] and not data["abstained"]
    assert data["results"][0]["url"].startswith("http://localhost/")
    kinds = {r["type"] for r in check(c.get(path, query_string={"q": "ktp hilang", "k": 50}), "GET", path,
                                      200)["results"]}
    assert kinds == {"service", "question"}
    for types in ("service", "question", "service,question", "question,"):
        data = check(c.get(path, query_string={"q": "skck", "types": types, "k": 3}), "GET", path, 200)
        assert len(data["results"]) <= 3
        assert {r["type"] for r in data["results"]} <= set(filter(None, types.split(",")))
    for q in ("asdfgh qwerty", "!!!"):
        data = check(c.get(path, query_string={"q": q}), "GET", path, 200)
        assert data["abstained"] and data["results"] == []
    data = check(c.get(path, query_string={"q": "paspr", "exact": "1"}), "GET", path, 200)
    assert data["did_you_mean"] == "paspor" and data["corrected"] is None
    data = check(c.get(path, query_string={"q": "paspr"}), "GET", path, 200)
    assert data["corrected"] == "paspor" and data["did_you_mean"] is None
    check(c.get(path, query_string={"q": "a" * 5000}), "GET", path, 200)
    for query in ({}, {"q": ""}, {"q": "   "}, {"q": "\x01\x02"}, {"q": "ktp", "k": "0"}, {"q": "ktp", "k": "51"},
                  {"q": "ktp", "k": "x"}, {"q": "ktp", "k": "-1"}, {"q": "ktp", "k": "１"},
                  {"q": "ktp", "types": "halaman"}, {"q": "ktp", "types": "service,forum"},
                  {"q": "ktp", "exact": "2"}):
        body = check(c.get(path, query_string=query), "GET", path, 400)
        assert body["error"]["code"] == 400, query


def test_similar_questions_responses_match(viewer):
    c = viewer
    path = "/api/v1/questions/similar"
    data = check(c.get(path, query_string={"title": "ktp saya hilang waktu merantau", "k": 3}), "GET", path, 200)
    assert data["results"] and len(data["results"]) <= 3 and data["services"]
    data = check(c.get(path, query_string={"title": "zzqx vvbn", "body": "x" * 1000}), "GET", path, 200)
    assert data["results"] == []
    for query in ({}, {"title": "ab"}, {"title": "\x01\x02\x03\x04"}, {"title": "ktp hilang", "k": "21"},
                  {"title": "ktp hilang", "k": "0"}, {"title": "ktp hilang", "k": "dua"}):
        check(c.get(path, query_string=query), "GET", path, 400)


def test_rate_limited_search_and_writes_are_documented_429s(tmp_path, seeded_db):
    app = make_app(clone(seeded_db, tmp_path), RATELIMIT_ENABLED=True,
                   RATELIMITS={"search": [("ip", 1, 60)], "post": [("user", 1, 60)]})
    _users(app)
    c = app.test_client()
    check(c.get("/api/v1/search?q=ktp"), "GET", "/api/v1/search", 200)
    body = check(c.get("/api/v1/search?q=ktp"), "GET", "/api/v1/search", 429)
    assert body["error"]["code"] == 429
    check(c.get("/api/v1/questions/similar?title=ktp+hilang"), "GET", "/api/v1/questions/similar", 429)
    m = login_client(app, "warga_api")
    with app.app_context():
        qid = db.session.execute(sa.text("SELECT min(id) FROM forum_questions")).scalar()
    answer = {"body": BODY}
    path = f"/api/v1/questions/{qid}/answers"
    check(m.post(path, json=answer, headers=csrf(m)), "POST", path, 201)
    check(m.post(path, json=answer, headers=csrf(m)), "POST", path, 429)
    check(m.post("/api/v1/questions", json={"title": TITLE, "body": BODY}, headers=csrf(m)), "POST",
          "/api/v1/questions", 429)


# ---------------------------------------------------------------- questions

def test_question_list_responses_match(client):
    path = "/api/v1/questions"
    data = check(client.get(path), "GET", path, 200)
    assert data["page"] == 1 and data["per_page"] == 20 and data["count"] >= 60
    for query in ("per_page=100", "per_page=1&page=3", "sort=aktif", "sort=belum-terjawab", "sort=suara",
                  "tag=pungli", "service=nikah-di-kua", "tag=" + "x" * 300, "page=10000"):
        check(client.get(f"{path}?{query}"), "GET", path, 200)
    data = check(client.get(f"{path}?page=10000"), "GET", path, 200)
    assert data["questions"] == [] and data["count"] >= 60  # past the end: empty page, not an error
    for query in ("sort=acak", "page=0", "page=10001", "page=-1", "page=x", "page=1.5", "per_page=0",
                  "per_page=101", "per_page=99999999999999999999999", "service=tidak-ada"):
        body = check(client.get(f"{path}?{query}"), "GET", path, 400)
        assert body["error"]["code"] == 400, query


def test_question_detail_visibility(app):
    from forum.moderation import hide_post
    from core.models import User

    _users(app)
    anon = app.test_client()
    listing = check(anon.get("/api/v1/questions?per_page=100&sort=suara"), "GET", "/api/v1/questions", 200)
    for q in listing["questions"]:  # every seeded thread, answers and comments included
        check(anon.get(f"/api/v1/questions/{q['id']}"), "GET", "/api/v1/questions/1", 200)
    qid = listing["questions"][0]["id"]
    with app.app_context():
        mod = db.session.scalar(sa.select(User).where(User.username == "mod_api"))
        hide_post(mod, qid, "Uji: data pribadi di judul")
    check(anon.get(f"/api/v1/questions/{qid}"), "GET", "/api/v1/questions/1", 404)
    check(login_client(app, "warga_api").get(f"/api/v1/questions/{qid}"), "GET", "/api/v1/questions/1", 404)
    check(login_client(app, "mod_api").get(f"/api/v1/questions/{qid}"), "GET", "/api/v1/questions/1", 200)
    for bad in ("999999", "0", "2147483648", "99999999999999999999", "abc", "-1"):
        body = check(anon.get(f"/api/v1/questions/{bad}"), "GET", "/api/v1/questions/1", 404)
        assert body["error"]["code"] == 404


def test_ask_and_answer_responses_match(app):
    from core.models import User
    from forum.services import close_as_duplicate

    _users(app)
    m = login_client(app, "warga_api")
    new_q = {"title": TITLE, "body": BODY, "tags": ["skck", "kerja"], "services": ["skck"]}
    request_valid("/questions", new_q)
    resp = m.post("/api/v1/questions", json=new_q, headers=csrf(m))
    q = check(resp, "POST", "/api/v1/questions", 201)
    assert resp.headers["Location"].endswith(f"/api/v1/questions/{q['id']}")
    request_valid("/questions", {"title": TITLE + " lagi", "body": BODY, "tags": "skck, kerja"})
    check(m.post("/api/v1/questions", json={"title": TITLE + " lagi", "body": BODY, "tags": "skck, kerja"},
                 headers=csrf(m)), "POST", "/api/v1/questions", 201)
    path = f"/api/v1/questions/{q['id']}/answers"
    request_valid("/questions/{question_id}/answers", {"body": BODY})
    other = login_client(app, "tamu_api")
    resp = other.post(path, json={"body": BODY}, headers=csrf(other))
    answer = check(resp, "POST", path, 201)
    assert answer["question_id"] == q["id"] and f"#jawaban-{answer['id']}" in resp.headers["Location"]
    detail = check(app.test_client().get(f"/api/v1/questions/{q['id']}"), "GET", "/api/v1/questions/1", 200)
    assert [a["id"] for a in detail["answers"]] == [answer["id"]]

    # validation errors name their fields
    for payload, field in (({"title": "pendek", "body": BODY}, "title"), ({"title": TITLE, "body": 5}, "body"),
                           ({"title": TITLE, "body": "singkat"}, "body"),
                           ({"title": TITLE, "body": BODY, "services": ["tidak-ada"]}, "services"),
                           ({"title": TITLE, "body": BODY, "services": "skck"}, "services"),
                           ({"title": TITLE, "body": BODY, "tags": ["a", "b", "c", "d", "e", "f"]}, "tags"),
                           ({"title": TITLE, "body": BODY, "tags": [1, None]}, "tags"),
                           ({"body": BODY}, "title")):
        body = check(m.post("/api/v1/questions", json=payload, headers=csrf(m)), "POST", "/api/v1/questions", 400)
        assert field in body["error"]["fields"], payload
    body = check(m.post(path, json={"body": "pendek"}, headers=csrf(m)), "POST", path, 400)
    assert "body" in body["error"]["fields"]
    # not a JSON object, no CSRF token, not logged in, unknown question, too large
    for data in ("bukan json", "[1, 2]", '"teks"', "{", "[" * 100 + "]" * 100):
        for target in ("/api/v1/questions", path):
            check(m.post(target, data=data, content_type="application/json", headers=csrf(m)), "POST", target, 400)
    check(m.post("/api/v1/questions", json=new_q), "POST", "/api/v1/questions", 400)
    check(m.post(path, json={"body": BODY}, headers={"X-CSRFToken": "palsu"}), "POST", path, 400)
    anon = app.test_client()
    check(anon.post("/api/v1/questions", json=new_q, headers=csrf(anon)), "POST", "/api/v1/questions", 401)
    check(anon.post(path, json={"body": BODY}, headers=csrf(anon)), "POST", path, 401)
    for missing in ("/api/v1/questions/999999/answers", "/api/v1/questions/2147483647/answers"):
        check(m.post(missing, json={"body": BODY}, headers=csrf(m)), "POST", missing, 404)
    huge = '{"body": "' + "x" * (1024 * 1024 + 10) + '"}'
    for target in ("/api/v1/questions", path):
        check(m.post(target, data=huge, content_type="application/json", headers=csrf(m)), "POST", target, 413)
    # a closed thread takes no new answers; a suspended account is logged out
    with app.app_context():
        mod = db.session.scalar(sa.select(User).where(User.username == "mod_api"))
        original = db.session.execute(sa.text("SELECT min(id) FROM forum_questions")).scalar()
        close_as_duplicate(mod, q["id"], original)
    body = check(other.post(path, json={"body": BODY}, headers=csrf(other)), "POST", path, 400)
    assert "ditutup" in body["error"]["message"]
    token = csrf(m)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "warga_api"))
        user.suspended_until = user.created_at + timedelta(days=3650)
        db.session.commit()
    check(m.post("/api/v1/questions", json=new_q, headers=token), "POST", "/api/v1/questions", 401)


def test_unknown_paths_and_methods_are_json_errors(client):
    for path in ("/api/v1/tidak-ada", "/api/v1/services/paspor-baru/x", "/api/v1/questions/1/comments"):
        resp = client.get(path)
        assert resp.status_code == 404 and resp.is_json
        assert_valid(resp.get_json(), "/components/responses/NotFound/content/application~1json/schema", path)
    for method, path, allowed in (("delete", "/api/v1/questions", {"GET", "POST"}),
                                  ("put", "/api/v1/search", {"GET"}),
                                  ("post", "/api/v1/services", {"GET"}),
                                  ("get", "/api/v1/questions/1/answers", {"POST"}),
                                  ("patch", "/api/v1/openapi.json", {"GET"})):
        resp = getattr(client, method)(path)
        assert resp.status_code == 405 and resp.is_json, (method, path)
        assert_valid(resp.get_json(), "/components/responses/MethodNotAllowed/content/application~1json/schema",
                     path)
        assert allowed <= {m.strip() for m in resp.headers["Allow"].split(",")}


# ---------------------------------------------------------------- out-of-range parameters

BAD_VALUES = ["", " ", "0", "-1", "1.5", "1e3", "abc", "x" * 5000, "９", "²", "\x00", "\x01", "%", "<script>",
              "2147483648", "99999999999999999999999", "service,question,forum", "∞", "'; DROP TABLE x;--"]
GET_PATHS = ["/api/v1/services", "/api/v1/services/paspor-baru", "/api/v1/search", "/api/v1/questions",
             "/api/v1/questions/similar", "/api/v1/questions/1", "/api/v1/csrf", "/api/v1/openapi.json"]


def _query_params(path: str) -> list[str]:
    template, item = template_of(path)
    return [p["name"] for p in (_resolve(x, "")[0] for x in item["get"].get("parameters", [])) if p["in"] == "query"]


@pytest.mark.parametrize("path", GET_PATHS)
def test_out_of_range_parameters_get_documented_answers(client, path):
    """Each query parameter of each GET, with every bad value (the others
    valid): a documented status and body, never a 500."""
    valid = {"q": "ktp hilang", "title": "ktp hilang"}
    for name in _query_params(path) or ["unknown"]:
        for value in BAD_VALUES:
            query = {**{k: v for k, v in valid.items() if k in _query_params(path)}, name: value}
            resp = client.get(path, query_string=query)
            assert resp.status_code < 500, (path, name, value)
            check(resp, "GET", path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/api/v1/services", "/api/v1/search", "/api/v1/questions", "/api/v1/questions/similar"]),
       params=st.dictionaries(st.sampled_from(["q", "k", "types", "page", "per_page", "sort", "tag", "service",
                                               "title", "body", "category", "agency"]),
                              st.one_of(st.text(max_size=60), st.integers(-10**20, 10**20).map(str)), max_size=4))
def test_random_parameters_never_500(client, path, params):
    resp = client.get(path, query_string=params)
    assert resp.status_code in (200, 400), (path, params, resp.status_code)
    check(resp, "GET", path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(
    st.dictionaries(st.sampled_from(["title", "body", "tags", "services", "extra"]),
                    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=200),
                              st.lists(st.one_of(st.text(max_size=40), st.integers(), st.none()), max_size=8),
                              st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)), max_size=5),
    st.lists(st.integers(), max_size=3), st.text(max_size=20), st.integers()))
def test_random_question_bodies_get_documented_answers(app, payload):
    if not getattr(app, "_api_users", False):
        _users(app)
        app._api_users = True
    c = login_client(app, "warga_api")
    resp = c.post("/api/v1/questions", json=payload, headers=csrf(c))
    assert resp.status_code in (201, 400), (payload, resp.status_code, resp.get_data(as_text=True)[:200])
    check(resp, "POST", "/api/v1/questions")
