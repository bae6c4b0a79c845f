"""What every HTTP exchange of every service and the gateway goes through, set in one place
(``shared.app`` and ``odr.gateway`` install it):

- **Security headers** on every response: a strict Content-Security-Policy (scripts, styles,
  fonts and connections from the platform's own origin only, no inline script or style, no
  framing), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, and HSTS when
  the request came over TLS. Tokens live in this origin's storage, so nothing from anywhere else
  may run here. TLS is known from the request's scheme; behind a proxy, uvicorn takes it from
  ``X-Forwarded-Proto`` only when the proxy's address is in ``ODR_FORWARDED_ALLOW_IPS``.
- **A JSON depth limit** on request bodies: deeply nested JSON exhausts the parser's (and every
  recursive walker's) stack and used to answer 500; it is a 400 problem before any route sees it.
- **A size limit on the bodies read whole** (JSON, or a body that names no type): they are buffered
  here, so a huge one would take memory without bound; past ``MAX_JSON_BYTES`` it is a 413 problem,
  refused on its ``Content-Length`` before anything is read when it declares one. Routes that take
  files stream them and enforce their own limits.
"""

from __future__ import annotations

import re
from itertools import accumulate

from starlette.requests import Request

from .problems import problem_response

# NCALayer, the Kazakh national signature application, listens on the person's own computer at this
# fixed address; the agreement page asks it for a CMS signature (services/agreements/signing.py).
NCALAYER_ORIGIN = "wss://127.0.0.1:13579"


def content_security_policy(*, connect_src: tuple[str, ...] = ()) -> str:
    """The policy; ``connect_src`` adds origins the page may connect to (dev mode's stand-in for
    NCALayer in the browser tests)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        " ".join(["connect-src 'self'", NCALAYER_ORIGIN, *connect_src]),
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


CONTENT_SECURITY_POLICY = content_security_policy()
HSTS = "max-age=31536000; includeSubDomains"
SECURITY_HEADERS = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",  # frame-ancestors for browsers that predate it
}
MAX_JSON_DEPTH = 64
MAX_JSON_BYTES = 1 << 20


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set them itself (so a
    service mounted in the gateway and the gateway do not repeat them)."""

    def __init__(self, app, *, connect_src: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS,
                        b"content-security-policy": content_security_policy(connect_src=connect_src).encode()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = dict(self.headers)
        if scope.get("scheme") == "https":
            extra[b"strict-transport-security"] = HSTS.encode()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra.items() if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# A JSON string (escapes included), to be removed before counting brackets.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar), without parsing it:
    strings are dropped, then the brackets are counted (at C speed: no Python loop per byte)."""
    brackets = _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _is_json(scope) -> bool | None:
    """True for a JSON media type, False for another, None when the request names none (some
    routes, such as POST /agreements/verify, then look at the body itself)."""
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return None


class JsonDepthLimitMiddleware:
    """Refuses a JSON request body nested deeper than ``max_depth`` with a 400 problem, and one
    larger than ``max_bytes`` with a 413. The body is read once here and handed on unchanged."""

    def __init__(self, app, *, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_depth = max_depth
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        declared = _is_json(scope) if scope["type"] == "http" else False
        if declared is False or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        too_big = problem_response(Request(scope), 413, "body-too-large",
                                   f"the request body is larger than {self.max_bytes} bytes")
        if declared and _content_length(scope) > self.max_bytes:
            return await too_big(scope, receive, send)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                return await self.app(scope, _replay([message], receive), send)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not declared and len(chunks) == 1 and chunks[0].lstrip()[:1] not in (b"[", b"{", b""):
                # no type and not JSON (say, a PDF sent to /agreements/verify): the route reads it
                return await self.app(scope, _replay([message], receive), send)
            if size > self.max_bytes:
                return await too_big(scope, receive, send)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > self.max_depth:
            response = problem_response(Request(scope), 400, "json-too-deep",
                                        f"the JSON body nests deeper than {self.max_depth} levels")
            return await response(scope, receive, send)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _content_length(scope) -> int:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _replay(messages: list[dict], receive):
    pending = list(messages)

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
