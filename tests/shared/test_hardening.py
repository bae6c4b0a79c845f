"""Issue 18, findings 6, 9 and 17, over the whole platform as `odr dev` mounts it (the gateway and
its four services): security headers on every answer, API docs served by the platform under the
strict CSP, hostile numbers and deeply nested JSON answered with 4xx problems (never 500), and
every service's OpenAPI document valid for `openapi-spec-validator`."""

from __future__ import annotations

import re

import httpx
import pytest
from openapi_spec_validator import validate

from odr.gateway import create_gateway
from odr.services import SERVICES
from shared.config import Settings
from shared.hardening import CONTENT_SECURITY_POLICY, MAX_JSON_BYTES, json_depth
from tests.support.apps import running


@pytest.fixture
async def platform(tmp_path):
    async with running(create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"))) as client:
        yield client


async def _token(client, role="admin", subject="hardening-admin") -> dict:
    r = await client.post("/intake/dev/token", json={"subject": subject, "role": role})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _strict(headers) -> None:
    csp = headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and "unsafe" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


async def test_every_answer_carries_the_security_headers_and_hsts_only_over_tls(platform):
    paths = ["/", "/cases/c-1", "/assets/app.css", "/assets/js/main.js", "/healthz", "/asyncapi.json",
             *[f"/{s}/healthz" for s in SERVICES], *[f"/{s}/openapi.json" for s in SERVICES],
             *[f"/{s}/docs" for s in SERVICES], "/intake/no-such-route", "/agreements/agreements/x"]
    for path in paths:
        r = await platform.get(path)
        _strict(r.headers)
        assert "strict-transport-security" not in r.headers, path
        assert len(r.headers.get_list("content-security-policy")) == 1, path  # once, though mounted apps add it too

    tls = httpx.AsyncClient(transport=platform._transport, base_url="https://odr.test")
    async with tls:
        for path in ("/", "/intake/healthz", "/notifications/docs"):
            r = await tls.get(path)
            assert r.headers["strict-transport-security"].startswith("max-age=31536000"), path
            _strict(r.headers)


async def test_the_client_page_has_no_inline_script_style_or_handlers(platform):
    page = (await platform.get("/")).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert "<style" not in page and not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


async def test_api_docs_are_served_by_the_platform_itself(platform):
    for service in SERVICES:
        page = (await platform.get(f"/{service}/docs")).text
        srcs = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert srcs and all(s.startswith(f"/{service}/docs/") for s in srcs), srcs  # nothing from a CDN
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and "<style" not in page
        assert f'data-openapi-url="/{service}/openapi.json"' in page
        for src in srcs:
            r = await platform.get(src)
            assert r.status_code == 200 and len(r.content) > 100, src
        assert (await platform.get(f"/{service}/redoc")).status_code == 404  # no second, CDN-loading page


async def test_every_openapi_document_is_valid(platform):
    """Finding 17: notifications declared 3.1.0 but used 3.2's ``itemSchema`` for its event stream."""
    for service in SERVICES:
        document = (await platform.get(f"/{service}/openapi.json")).json()
        assert document["openapi"].startswith("3.1")
        validate(document)
        assert "itemSchema" not in str(document)
    stream = document["paths"]["/feed/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert stream["schema"]["type"] == "string" and stream["x-item-schema"]["properties"]["data"]


async def test_hostile_numbers_names_and_nesting_are_4xx_problems(platform):
    """Finding 6: each of these answered 500."""
    admin = await _token(platform)
    big = 2**63
    nested = b"[" * 100_000 + b"]" * 100_000
    cases = [
        ("POST", "/agreements/verify", {"content": nested, "headers": {"content-type": "application/json"}}),
        ("POST", "/agreements/verify", {"content": b'{"a":' * 5000 + b"1" + b"}" * 5000}),  # no content type
        ("PUT", "/agreements/agreements/x/content",
         {"content": b'{"base_version": 1, "content": ' + nested + b"}",
          "headers": {"content-type": "application/json", **admin}}),
        ("GET", f"/agreements/agreements/x/versions/{big}", {"headers": admin}),
        ("GET", f"/agreements/agreements/x/versions/{2**31}", {"headers": admin}),
        ("GET", f"/agreements/agreements/x/diff?from={big}&to=1", {"headers": admin}),
        ("GET", f"/agreements/agreements/x/diff?from=1&to={10**30}", {"headers": admin}),
        ("POST", "/agreements/agreements/x/signature-request", {"json": {"version": big}, "headers": admin}),
        ("GET", "/agreements/templates/KZ/_jurisdiction", {}),
        ("GET", f"/notifications/mailbox/{big}", {}),
        ("GET", f"/notifications/mailbox/{2**31}", {}),
    ]
    for method, path, kwargs in cases:
        r = await platform.request(method, path, **kwargs)
        assert 400 <= r.status_code < 500, (method, path[:80], r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), (path[:80], r.text[:200])
        assert r.json()["status"] == r.status_code
    r = await platform.post("/agreements/verify", content=nested, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["type"].endswith("/json-too-deep")
    # A real document's nesting is far below the limit: a sealed document still gets a verdict.
    r = await platform.post("/agreements/verify", json={"document": {"a": [[{"b": [1]}]]}, "signatures": [], "seal": {}})
    assert r.status_code == 200 and r.json()["valid"] is False
    assert (await platform.get("/agreements/templates/KZ/civil")).status_code in (200, 422)
    # Only JSON is measured: a PDF full of brackets, sent without a content type, is still read as a PDF.
    r = await platform.post("/agreements/verify", content=b"%PDF-1.7\n" + b"[" * 1000)
    assert r.status_code == 200 and r.json()["valid"] is False


async def test_huge_bodies_are_refused_without_being_held(platform):
    """A JSON body is read whole before any route sees it, so its size is bounded: refused on its
    declared length, or once the bytes received pass the limit when it declares none (chunked)."""
    huge = b'{"text": "' + b"x" * (MAX_JSON_BYTES + 10) + b'"}'
    for path in ("/intake/auth/login", "/agreements/verify", "/notifications/contacts/c-1"):
        r = await platform.post(path, content=huge, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["type"].endswith("/body-too-large"), (path, r.text[:200])

        async def chunked():
            for start in range(0, len(huge), 65536):
                yield huge[start:start + 65536]

        r = await platform.post(path, content=chunked())
        assert r.status_code == 413 and r.json()["type"].endswith("/body-too-large"), (path, r.text[:200])
    # a PDF sent to the public verification reads past the JSON limit, up to its own
    r = await platform.post("/agreements/verify", content=b"%PDF-1.7\n" + b"0" * (MAX_JSON_BYTES + 10))
    assert r.status_code == 200 and r.json()["valid"] is False
    r = await platform.post("/agreements/verify", content=b"%PDF-1.7\n" + b"0" * (11 << 20),
                            headers={"content-type": "application/pdf"})
    assert r.status_code == 413


def test_json_depth_counts_brackets_outside_strings():
    assert json_depth(b"1") == 0 and json_depth(b"[]") == 1 and json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'["[[[[", "\\"[[[", {"x": "]]]{{{"}]') == 2
    assert json_depth(b"[" * 10_000) == 10_000


def test_the_production_gateways_serve_the_client_with_the_same_headers():
    """docker-compose's nginx and the client image serve the client themselves, not the gateway."""
    from pathlib import Path

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    for conf in ("nginx.conf", "client-nginx.conf"):
        text = (deploy / conf).read_text()
        for location in ("location /assets/ {", "location / {"):
            block = text.split(location, 1)[1].split("}", 1)[0]
            assert f'add_header Content-Security-Policy "{CONTENT_SECURITY_POLICY}" always;' in block, (conf, location)
            assert 'add_header X-Content-Type-Options "nosniff" always;' in block
            assert 'add_header Referrer-Policy "no-referrer" always;' in block
