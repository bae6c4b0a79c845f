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

    def __init__(self, status: int, code: str, detail: str, **extensions) -> None:
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
        return problem_response(request, exc.status, exc.code, exc.detail, **exc.extensions)

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
