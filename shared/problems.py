"""RFC 9457 problem details for every error a service returns.

Validation errors list the offending fields by location and message but never echo the input
value back, since it may be confidential.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://odr.example/problems/"
log = logging.getLogger("odr.problems")


class Problem(Exception):
    """Raise from a use case to answer with a problem; ``code`` becomes the problem type."""

    RESERVED = frozenset({"type", "title", "status", "detail", "instance"})
    headers: dict[str, str] | None = None  # response headers a problem needs (429: ``Retry-After``)

    def __init__(self, status: int, code: str, detail: str, **extensions) -> None:
        clash = self.RESERVED & set(extensions)
        if clash:  # an extension may not overwrite a member RFC 9457 defines
            raise ValueError(f"problem extensions may not be named {sorted(clash)}")
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extensions = extensions


class NotFound(Problem):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not-found", f"{what} was not found")


class Forbidden(Problem):
    def __init__(self, detail: str = "you do not have access to this resource") -> None:
        super().__init__(403, "forbidden", detail)


class Conflict(Problem):
    def __init__(self, code: str, detail: str, **extensions) -> None:
        super().__init__(409, code, detail, **extensions)


def problem_response(request: Request, status: int, code: str, detail: str, headers=None, **extensions) -> JSONResponse:
    body = {
        "type": TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(request, exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return problem_response(request, 422, "validation-error", "the request is not valid; see `errors`", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
        return problem_response(request, exc.status_code, code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("unhandled error", extra={"exc_type": type(exc).__name__})
        return problem_response(request, 500, "internal-error", "an unexpected error occurred; it has been logged")


PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details. Validation problems add `errors` (location, message, type).",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"}, "type": {"type": "string"}}}},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}

_DOCUMENTED = {"400": "Bad request", "401": "Missing, expired or invalid token", "403": "Not allowed for this role",
               "404": "Not found (or not yours)", "409": "Conflicts with the current state",
               "422": "Invalid request"}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: every operation may answer with a
    problem document, and validation errors are problems too (not FastAPI's default shape)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                for status, description in _DOCUMENTED.items():
                    operation["responses"][status] = {"description": description, **problem}
        schema["components"]["schemas"].pop("HTTPValidationError", None)
        schema["components"]["schemas"].pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
