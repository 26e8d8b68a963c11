"""Every error the HTTP API answers with, as JSON ``{"error": {"code", "message"}}``, never a traceback.

    ApiError                      an answer with a status, a code and a message that says what to do
    ├── (400) bad_request         a request the service refuses (UsageError): no identifier, a bad URL, ...
    ├── (401) unauthorized        an operator endpoint without the operator token
    ├── (404) not_found           an unknown id, or an id with a wrong or missing requester token (the same answer)
    ├── (409) not_ready           a receipt or archive asked for before the request has completed
    ├── (410) gone                an access archive a later deletion removed
    ├── (413) too_large           a body, a file or an image over its limit; too many files
    ├── (415) unsupported_media   a file that is not a JPEG, PNG or WebP image
    ├── (422) unprocessable       a field that does not validate, an image that does not decode, a probe that
    │                             does not show exactly one face
    ├── (429) rate_limited        too many requests from one client (with Retry-After)
    └── (500) internal            a bug: logged by its type and an id, the body says only that

FaircrawlError messages are written for users (they name what to fix and never carry image bytes or
encodings), so they are passed on; anything else is a bug and its message stays in the server.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policy.errors import (
    ConfigError,
    FaircrawlError,
    ImageError,
    ProbeError,
    StorageError,
    UsageError,
)

logger = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 409: "not_ready",
         410: "gone", 413: "too_large", 415: "unsupported_media", 422: "unprocessable", 429: "rate_limited",
         500: "internal", 503: "unavailable"}


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """What every error looks like."""

    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code or CODES.get(status, "error")
        self.headers = headers or {}


def error_response(status: int, message: str, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code or CODES.get(status, "error"), "message": message}},
                        status_code=status, headers=headers)


def not_found(what: str = "request") -> ApiError:
    """The one answer for an unknown id and for a wrong or missing token: it does not confirm that the id exists."""
    return ApiError(404, f"no such {what}, or the token does not open it: send the token you were given when it "
                         "was filed as `Authorization: Bearer <token>`")


def status_of(error: FaircrawlError) -> int:
    if isinstance(error, ImageError):
        return {"image.too_many_pixels": 413, "image.unsupported_format": 415, "image.not_an_image": 415}.get(
            error.code, 422)
    if isinstance(error, ProbeError):
        cause = error.__cause__
        return status_of(cause) if isinstance(cause, ImageError) else 422
    if isinstance(error, (UsageError, ConfigError)):
        return 400
    if isinstance(error, StorageError):
        return 503
    return 400


def install(app: FastAPI) -> None:
    """The handlers that turn every exception into the JSON shape above."""

    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.message, error.code, error.headers)

    async def faircrawl_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, FaircrawlError)
        status = status_of(error)
        if status == 503:
            logger.error("storage unavailable: %s", error)
            return error_response(503, "the service's storage is unavailable; try again later (the operator has "
                                       "been told in the server log)")
        return error_response(status, str(error))

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = []
        for problem in error.errors()[:5]:  # never the input itself: it may be a photo
            where = ".".join(str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path"))
            problems.append(f"{where or 'request'}: {problem.get('msg', 'invalid')}")
        return error_response(422, "; ".join(problems) + " (see /docs for every field)")

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        message = {404: "no such endpoint; the API is under /api (see /docs)",
                   405: "this method is not allowed here (see /docs)"}.get(error.status_code, str(error.detail))
        if error.status_code == 400 and "parsing the body" in str(error.detail):
            message = "the body could not be read as multipart/form-data (see /docs for the fields)"
        return error_response(error.status_code, message, headers=getattr(error, "headers", None))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(FaircrawlError, faircrawl_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


class CatchAll:
    """The last line: an unexpected exception is a 500 in the JSON shape, logged by type and an id, never by its
    message or its stack in the response (Starlette's own handler would re-raise it into the server's log)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:  # noqa: BLE001 - the API never shows a stack
            incident = uuid.uuid4().hex[:12]
            logger.error("internal error %s in %s %s: %s", incident, scope.get("method"), scope.get("path"),
                         type(error).__name__)
            if not started:
                response = error_response(500, f"the server failed to answer (incident {incident}); it is logged, "
                                               "and nothing you sent was kept")
                await response(scope, receive, send)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": CODES[status].replace("_", " ")}
    for status in (400, 401, 404, 409, 410, 413, 415, 422, 429, 503)}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of an endpoint (OpenAPI), so a client and schemathesis know each."""
    return {status: ERROR_RESPONSES[status] for status in statuses}
