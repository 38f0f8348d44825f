"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

The document is written by hand as data in ``openapi.yaml`` next to this
file (YAML rather than a Python dict: it is read and reviewed as one
document, diffs stay readable, and any OpenAPI tool can open the file as
it is; the constants it repeats are checked against the code by
tests/test_openapi.py).  It is parsed and encoded once per process; the
response carries a strong ETag and may be cached."""
from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, Response, request

SPEC_PATH = Path(__file__).with_name("openapi.yaml")

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@cache
def spec() -> dict:
    """The document as a dict (parsed once; treat it as read-only)."""
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _encoded() -> tuple[bytes, str]:
    body = json.dumps(spec(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.get("/openapi.json")
def openapi_json():
    body, etag = _encoded()
    resp = Response(body, mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp.make_conditional(request)
